-- `vps_list_tags_status` (0008) answers every tag filter, with or without a
-- status, as this older index did; one GIN index over tags is enough to keep
-- up on every write and import.
DROP INDEX IF EXISTS vps_tags;
