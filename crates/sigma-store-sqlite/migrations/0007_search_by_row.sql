-- `?q=` asks the trigram index for its row numbers only (reading the VPS id
-- stored beside the text costs a lookup per match inside FTS5); this index
-- turns those row numbers into VPS ids.
CREATE INDEX vps_search_row_by_row ON vps_search_row (row, vps_id);
