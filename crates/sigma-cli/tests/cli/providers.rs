use crate::common::{Server, assert_plain, both, fails, run};
use serde_json::Value;

both!(provider_commands_in_every_format);

fn provider_commands_in_every_format(s: Server) {
    let created =
        s.json(&["provider", "create", "DMIT", "--country", "us", "--rating", "4", "--website", "https://dmit.io"]);
    assert_eq!((created["name"].as_str(), created["country"].as_str()), (Some("DMIT"), Some("US")));
    let id = created["id"].as_str().unwrap().to_owned();
    s.ok(&["provider", "create", "BandwagonHost", "--api-supported", "true"]);

    // Table: a header and aligned rows, no colour off a terminal.
    let table = s.ok(&["provider", "list"]);
    assert_plain(&table);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("WEBSITE"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    let col = lines[0].find("COUNTRY").unwrap();
    assert!(lines.iter().skip(1).any(|l| l[col..].starts_with("US")), "columns line up: {table}");

    // JSON and YAML carry the API's records; CSV has every column.
    let list = s.json(&["provider", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let yaml = s.ok(&["provider", "list", "-o", "yaml"]);
    let from_yaml: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(from_yaml, list, "YAML says what JSON says");
    let csv = s.ok(&["provider", "list", "--output", "csv", "--search", "dmi"]);
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("id,name,country,vps,active,rating,api,website,panel_url"), "{csv}");
    assert!(rows.next().unwrap().starts_with(&format!("{id},DMIT,US,0,0,4,no,https://dmit.io")), "{csv}");
    assert!(rows.next().is_none());

    // Show by name (any case) and by id; `show` lists every field.
    let shown = s.ok(&["provider", "show", "dmit"]);
    assert!(shown.contains(&id) && shown.contains("panel_url"), "{shown}");
    assert_eq!(s.json(&["provider", "show", &id])["name"], "DMIT");

    // Update changes only what is given; --clear empties a field.
    let updated = s.json(&["provider", "update", "DMIT", "--rating", "5", "--clear", "website", "--notes", "fast"]);
    assert_eq!((updated["rating"].as_i64(), updated["website"].as_str()), (Some(5), None));
    assert_eq!((updated["country"].as_str(), updated["notes"].as_str()), (Some("US"), Some("fast")));
    let renamed = s.json(&["provider", "update", &id, "--name", "DMIT LA"]);
    assert_eq!(renamed["name"], "DMIT LA");

    let r = run(s.sigma().args(["provider", "delete", "DMIT LA"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("deleted provider DMIT LA"));
    let line = fails(&run(s.sigma().args(["provider", "show", &id])), 3);
    assert!(line.contains("not found") || line.contains("no provider"), "{line}");
    fails(&run(s.sigma().args(["provider", "delete", "DMIT LA"])), 3);
}
