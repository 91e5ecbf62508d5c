//! `results.xlsx` as an analyst opens it: every sheet's main table filtered with a frozen
//! header, numbers formatted (scores 0.00, shares as percentages, counts whole), values stored
//! without binary noise, every figure labelled, and the Gini decomposition complete.

mod common;

use std::io::Read;

use common::{govcap, text, tmp};

/// The XML parts of an XLSX file by name.
fn parts(path: &std::path::Path) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().to_string(), s)
        })
        .collect()
}

#[test]
fn the_workbook_is_formatted_filtered_frozen_and_labelled() {
    use calamine::Reader;
    let dir = tmp("workbook");
    let o = govcap(&["demo", "--out", "d", "--no-audit"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let path = dir.join("d/2021/results.xlsx");

    let xml = parts(&path);
    let styles = &xml.iter().find(|(n, _)| n == "xl/styles.xml").unwrap().1;
    for f in ["0.00", "0.00%", "0.0000"] {
        assert!(
            styles.contains(&format!("formatCode=\"{f}\"")),
            "number format {f}"
        );
    }
    let sheets: Vec<&(String, String)> = xml
        .iter()
        .filter(|(n, _)| n.starts_with("xl/worksheets/sheet"))
        .collect();
    assert!(sheets.len() >= 8, "{} sheets", sheets.len());
    for (name, body) in &sheets {
        assert!(body.contains("<autoFilter"), "{name}: no filter");
        assert!(
            body.contains("state=\"frozen\""),
            "{name}: no frozen header"
        );
    }

    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let mut labels = Vec::new();
    for sheet in wb.sheet_names().to_vec() {
        let range = wb.worksheet_range(&sheet).unwrap();
        for row in range.rows() {
            // Stored to Excel's 15 significant digits: no 2.0999999999999996.
            for c in row {
                if let calamine::Data::Float(x) = c {
                    let shortest = format!("{x:e}");
                    let digits = shortest
                        .split('e')
                        .next()
                        .unwrap()
                        .chars()
                        .filter(char::is_ascii_digit)
                        .count();
                    assert!(digits <= 15, "{sheet}: {x} carries binary noise");
                }
            }
            // Every row that holds a number has a text label or a code first.
            if row.iter().any(|c| matches!(c, calamine::Data::Float(_))) {
                assert!(
                    matches!(&row[0], calamine::Data::String(s) if !s.is_empty()),
                    "{sheet}: a row of figures without a label: {row:?}"
                );
            }
            if let calamine::Data::String(s) = &row[0] {
                labels.push(s.clone());
            }
        }
    }
    for want in [
        "西部与东部平均分之比",
        "两年均可比较的省份数",
        "基尼系数（Dagum 分解）",
    ] {
        assert!(labels.iter().any(|l| l == want), "label {want} missing");
    }
    // Gini = between (net) + within + overlap.
    let range = wb.worksheet_range("区域差异").unwrap();
    let gini = range
        .rows()
        .find(|r| matches!(&r[0], calamine::Data::String(s) if s.starts_with("基尼系数")))
        .unwrap();
    let v: Vec<f64> = gini[1..5]
        .iter()
        .map(|c| match c {
            calamine::Data::Float(x) => *x,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!((v[0] - (v[1] + v[2] + v[3])).abs() < 1e-9, "{v:?}");
}
