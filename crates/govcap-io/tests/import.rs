mod common;

use std::path::Path;

use common::TempDir;
use govcap_core::framework::Framework;
use govcap_core::observation::{Observation, Origin, Source, Value};
use govcap_core::unit::{Unit, UnitSet};
use govcap_io::error::PRINTED_PROBLEMS;
use govcap_io::{default_units, read_observations, ImportError, ImportOptions};

fn read(path: &Path, opts: &ImportOptions) -> Result<Vec<Observation>, ImportError> {
    read_observations(
        path,
        &Framework::default_framework(),
        &default_units(),
        opts,
    )
}

#[allow(clippy::too_many_arguments)]
fn obs(
    file: &str,
    row: usize,
    column: Option<&str>,
    unit: &str,
    indicator: &str,
    year: i32,
    value: Value,
    source: Source,
    evaluator: Option<&str>,
    evidence_url: Option<&str>,
    observed_at: Option<&str>,
    note: Option<&str>,
) -> Observation {
    Observation {
        unit: unit.into(),
        indicator: indicator.into(),
        year,
        value,
        source,
        evaluator: evaluator.map(Into::into),
        evidence_url: evidence_url.map(Into::into),
        observed_at: observed_at.map(Into::into),
        note: note.map(Into::into),
        origin: Origin {
            file: file.into(),
            row,
            column: column.map(Into::into),
        },
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// A long file with Chinese names, notes with quotes, commas and a line break, units given by
/// code and by name, and Chinese and English source words.
const LONG_CSV: &str = "unit,indicator,year,value,source,evaluator,evidence_url,observed_at,note\n\
510100,S1.1,2021,85%,人工,张三,https://example.gov.cn/a,2021-06-01,\"清单完整，含“办事指南”\"\n\
成都市,S1.4,2021,文件及解读,auto,,,,\n\
420100,S2.2,2021,是,,李四,,,\"多行\n备注\"\n\
420100,R2.2,2021,0.35,自动,,,,承诺时限：法定的35%\n\
武汉市,事项清单公开,2020,3/4,manual,王五,,2020-12-31T10:00:00,  前后空格保留  \n";

fn long_expected(file: &str) -> Vec<Observation> {
    vec![
        obs(
            file,
            2,
            None,
            "510100",
            "S1.1",
            2021,
            text("85%"),
            Source::Manual,
            Some("张三"),
            Some("https://example.gov.cn/a"),
            Some("2021-06-01"),
            Some("清单完整，含“办事指南”"),
        ),
        obs(
            file,
            3,
            None,
            "510100",
            "S1.4",
            2021,
            text("文件及解读"),
            Source::Auto,
            None,
            None,
            None,
            None,
        ),
        // The quoted note spans two lines but is one spreadsheet row: the next record is row 5.
        obs(
            file,
            4,
            None,
            "420100",
            "S2.2",
            2021,
            text("是"),
            Source::Manual,
            Some("李四"),
            None,
            None,
            Some("多行\n备注"),
        ),
        obs(
            file,
            5,
            None,
            "420100",
            "R2.2",
            2021,
            Value::Number(0.35),
            Source::Auto,
            None,
            None,
            None,
            Some("承诺时限：法定的35%"),
        ),
        obs(
            file,
            6,
            None,
            "420100",
            "S1.1",
            2020,
            text("3/4"),
            Source::Manual,
            Some("王五"),
            None,
            Some("2020-12-31T10:00:00"),
            Some("  前后空格保留  "),
        ),
    ]
}

#[test]
fn long_csv_in_utf8_round_trips() {
    // "3/4" is not a valid ratio: check the fixture is otherwise valid first, then fix it.
    let dir = TempDir::new("utf8");
    let path = dir.write("obs.csv", LONG_CSV.as_bytes());
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    assert_eq!(
        (err.problems()[0].row, err.problems()[0].column.as_deref()),
        (6, Some("value"))
    );

    let fixed = LONG_CSV.replace("3/4", "0.75");
    let path = dir.write("obs.csv", fixed.as_bytes());
    let got = read(&path, &ImportOptions::default()).unwrap();
    let mut want = long_expected("obs.csv");
    want[4].value = Value::Number(0.75);
    assert_eq!(got, want);
}

#[test]
fn long_csv_with_bom_gbk_and_utf16_round_trips() {
    let content = LONG_CSV.replace("3/4", "0.75");
    let mut want = long_expected("x.csv");
    want[4].value = Value::Number(0.75);
    let dir = TempDir::new("encodings");

    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(content.as_bytes());

    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&content);
    assert!(!unmappable, "fixture must be representable in GBK");
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "GBK bytes must not pass as UTF-8"
    );

    let mut utf16 = vec![0xFF, 0xFE];
    for u in content.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }

    for (name, bytes) in [
        ("bom.csv", bom),
        ("gbk.csv", gbk.into_owned()),
        ("utf16.csv", utf16),
    ] {
        let path = dir.write(name, &bytes);
        let got = read(&path, &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Vec<Observation> = want
            .iter()
            .cloned()
            .map(|mut o| {
                o.origin.file = name.into();
                o
            })
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn undecodable_bytes_are_an_encoding_error() {
    let dir = TempDir::new("badenc");
    let path = dir.write(
        "bad.csv",
        &[b'u', b'n', b'i', b't', b'\n', 0xFF, 0xFF, b'\n'],
    );
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Encoding { .. }), "{err:?}");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = TempDir::new("missing");
    let err = read(&dir.path("nope.csv"), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }), "{err:?}");
}

#[test]
fn wide_csv_skips_empty_cells_and_names_columns() {
    let dir = TempDir::new("wide");
    let path = dir.write(
        "wide.csv",
        "code,name,S1.1,S2.2,S1.4,R2.2,province,note\n\
         510100,成都市,0.9,1,仅有文件,,四川省,一般\n\
         武汉市,武汉市,,否,interpreted,0.5,湖北省,\n"
            .as_bytes(),
    );
    let opts = ImportOptions {
        year: Some(2021),
        default_source: Source::Proposed,
        ..ImportOptions::default()
    };
    let got = read(&path, &opts).unwrap();
    let f = "wide.csv";
    let p = Source::Proposed;
    assert_eq!(
        got,
        vec![
            obs(
                f,
                2,
                Some("S1.1"),
                "510100",
                "S1.1",
                2021,
                Value::Number(0.9),
                p,
                None,
                None,
                None,
                Some("一般")
            ),
            obs(
                f,
                2,
                Some("S2.2"),
                "510100",
                "S2.2",
                2021,
                Value::Number(1.0),
                p,
                None,
                None,
                None,
                Some("一般")
            ),
            obs(
                f,
                2,
                Some("S1.4"),
                "510100",
                "S1.4",
                2021,
                text("仅有文件"),
                p,
                None,
                None,
                None,
                Some("一般")
            ),
            obs(
                f,
                3,
                Some("S2.2"),
                "420100",
                "S2.2",
                2021,
                text("否"),
                p,
                None,
                None,
                None,
                None
            ),
            obs(
                f,
                3,
                Some("S1.4"),
                "420100",
                "S1.4",
                2021,
                text("interpreted"),
                p,
                None,
                None,
                None,
                None
            ),
            obs(
                f,
                3,
                Some("R2.2"),
                "420100",
                "R2.2",
                2021,
                Value::Number(0.5),
                p,
                None,
                None,
                None,
                None
            ),
        ]
    );

    // Without a year column or a default year the file is refused at the header.
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.problems().len(), 1);
    assert_eq!(
        (err.problems()[0].row, err.problems()[0].column.as_deref()),
        (1, Some("year"))
    );
}

#[test]
fn wide_csv_with_year_column_and_header_problems() {
    let dir = TempDir::new("wide-year");
    let path = dir.write(
        "w.csv",
        b"unit,year,S3.3,R1.1\n510100,2021,2,4\n510100,2022,1,\n",
    );
    let got = read(&path, &ImportOptions::default()).unwrap();
    let keys: Vec<(&str, i32, &Value, usize)> = got
        .iter()
        .map(|o| (o.indicator.as_str(), o.year, &o.value, o.origin.row))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("S3.3", 2021, &Value::Number(2.0), 2),
            ("R1.1", 2021, &Value::Number(4.0), 2),
            ("S3.3", 2022, &Value::Number(1.0), 3)
        ]
    );

    let path = dir.write(
        "bad.csv",
        b"unit,year,S1.1,S1,X9.9,S1.1\n510100,2021,0.5,1,2,0.5\n510100,2022,2,,,\n",
    );
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    let p = err.problems();
    // Header problems do not hide row problems: the bad ratio on row 3 is reported too.
    assert_eq!(p.len(), 4, "{err}");
    assert_eq!((p[3].row, p[3].column.as_deref()), (3, Some("S1.1")));
    assert!(p[3].reason.contains("2 is out of range"), "{}", p[3].reason);
    assert_eq!((p[0].row, p[0].column.as_deref()), (1, Some("S1")));
    assert!(
        p[0].reason.contains("not a leaf") && p[0].reason.contains("S1.1, S1.2, S1.3, S1.4"),
        "{}",
        p[0].reason
    );
    assert_eq!((p[1].row, p[1].column.as_deref()), (1, Some("X9.9")));
    assert!(
        p[1].reason.starts_with("unknown indicator \"X9.9\""),
        "{}",
        p[1].reason
    );
    assert_eq!((p[2].row, p[2].column.as_deref()), (1, Some("S1.1")));
    assert!(p[2].reason.contains("repeats"), "{}", p[2].reason);
}

#[test]
fn every_problem_is_reported_in_one_go() {
    let dir = TempDir::new("errors");
    let path = dir.write(
        "errors.csv",
        "unit,indicator,year,value,source,note\n\
         999999,S1.1,2021,0.5,,unknown unit\n\
         510100,X9.9,2021,0.5,,unknown indicator\n\
         510100,S1,2021,0.5,,not a leaf\n\
         510100,S1.1,2021,1.5,,ratio out of range\n\
         510100,S1.2,2021,,,empty value\n\
         510100,S1.3,20x1,0.5,,bad year\n\
         510100,S2.2,2021,1,someone,bad source\n\
         510100,S2.1,2021,abc,,not a number\n\
         510100,S1.4,2021,2,,fine\n\
         510100,S1.4,2021,none,,duplicate\n\
         ,S1.4,2022,1,,empty unit\n\
         420100,S1.4,2021,half,,not a level\n"
            .as_bytes(),
    );
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    let ImportError::Invalid { file, problems } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert!(file.ends_with("errors.csv"));
    let expected: &[(usize, &str, &[&str])] = &[
        (2, "unit", &["unknown unit \"999999\""]),
        (3, "indicator", &["unknown indicator \"X9.9\""]),
        (
            4,
            "indicator",
            &["\"S1\" is not a leaf", "S1.1, S1.2, S1.3, S1.4"],
        ),
        (
            5,
            "value",
            &[
                "value not valid for indicator S1.1 (ratio)",
                "1.5 is out of range",
            ],
        ),
        (6, "value", &["empty required cell"]),
        (7, "year", &["malformed year \"20x1\""]),
        (8, "source", &["unknown source \"someone\""]),
        (
            9,
            "value",
            &[
                "value not valid for indicator S2.1 (ratio)",
                "\"abc\" is not a number",
            ],
        ),
        (11, "indicator", &["duplicate of row 10"]),
        (12, "unit", &["empty required cell"]),
        (
            13,
            "value",
            &[
                "value not valid for indicator S1.4 (graded)",
                "\"half\" is not one of",
            ],
        ),
    ];
    assert_eq!(problems.len(), expected.len(), "{err}");
    for (p, (row, col, parts)) in problems.iter().zip(expected) {
        assert_eq!((p.row, p.column.as_deref()), (*row, Some(*col)), "{p}");
        for part in *parts {
            assert!(
                p.reason.contains(part),
                "row {row}: {:?} lacks {part:?}",
                p.reason
            );
        }
    }
    // The message lists them all, each located.
    let msg = err.to_string();
    assert!(msg.contains("11 problems"), "{msg}");
    assert!(
        msg.contains("row 7, column \"year\": malformed year"),
        "{msg}"
    );
}

#[test]
fn missing_required_columns_are_reported_on_row_1() {
    let dir = TempDir::new("missing-cols");
    let path = dir.write("m.csv", b"unit,value,evidnce_url\n510100,1\n");
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    let cols: Vec<(usize, Option<&str>)> = err
        .problems()
        .iter()
        .map(|p| (p.row, p.column.as_deref()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (1, Some("evidnce_url")),
            (1, Some("indicator")),
            (1, Some("year"))
        ],
        "{err}"
    );
    assert!(err.problems()[0].reason.starts_with("unknown column"));
    assert!(err.problems()[1]
        .reason
        .starts_with("missing required column"));
}

#[test]
fn printed_list_is_capped_but_all_problems_are_kept() {
    let dir = TempDir::new("cap");
    let mut s = String::from("unit,indicator,year,value\n");
    for i in 0..60 {
        s.push_str(&format!("X{i},S1.1,2021,0.5\n"));
    }
    let path = dir.write("many.csv", s.as_bytes());
    let err = read(&path, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.problems().len(), 60);
    assert_eq!(err.problems()[59].row, 61);
    let msg = err.to_string();
    assert_eq!(
        msg.lines().filter(|l| l.starts_with("  row ")).count(),
        PRINTED_PROBLEMS
    );
    assert!(msg.ends_with("… and 10 more"), "{msg}");
}

#[test]
fn units_are_found_by_name_and_ambiguous_names_are_refused() {
    let unit = |code: &str, name: &str| Unit {
        code: code.into(),
        name: name.into(),
        name_en: name.into(),
        province: None,
        region: None,
        attrs: Default::default(),
    };
    let units = UnitSet::new(vec![
        unit("A1", "朝阳区"),
        unit("B1", "朝阳区"),
        unit("C1", "海淀区"),
    ])
    .unwrap();
    let dir = TempDir::new("names");
    let path = dir.write(
        "n.csv",
        "单位,指标,年份,数值\n海淀区,S2.2,2021,有\n朝阳区,S2.2,2021,无\nB1,S2.2,2021,无\n"
            .as_bytes(),
    );
    let fw = Framework::default_framework();
    let err = read_observations(&path, &fw, &units, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    let p = &err.problems()[0];
    assert_eq!((p.row, p.column.as_deref()), (3, Some("单位")));
    assert!(
        p.reason.contains("ambiguous") && p.reason.contains("A1, B1"),
        "{}",
        p.reason
    );

    let path = dir.write(
        "ok.csv",
        "单位,指标,年份,数值\n海淀区,S2.2,2021,有\nB1,S2.2,2021,无\n".as_bytes(),
    );
    let got = read_observations(&path, &fw, &units, &ImportOptions::default()).unwrap();
    assert_eq!(
        got.iter().map(|o| o.unit.as_str()).collect::<Vec<_>>(),
        vec!["C1", "B1"]
    );
}

fn header(sheet: &mut rust_xlsxwriter::Worksheet, row: u32, names: &[&str]) {
    for (c, h) in names.iter().enumerate() {
        sheet.write_string(row, c as u16, *h).unwrap();
    }
}

#[test]
fn xlsx_long_on_a_named_sheet_with_sheet_rows() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = TempDir::new("xlsx-long");
    let path = dir.path("数据.xlsx");
    let mut book = Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("说明").unwrap();
    notes.write_string(0, 0, "这一页不是数据").unwrap();
    let data = book.add_worksheet();
    data.set_name("数据").unwrap();
    // Row 1 is left empty: the header is on sheet row 2, data on rows 3 and 4.
    header(
        data,
        1,
        &[
            "单位代码",
            "指标代码",
            "年份",
            "数值",
            "来源",
            "评估人",
            "证据链接",
            "采集时间",
            "备注",
        ],
    );
    let date = Format::new().set_num_format("yyyy-mm-dd");
    data.write_number(2, 0, 510100).unwrap();
    data.write_string(2, 1, "S1.1").unwrap();
    data.write_number(2, 2, 2021).unwrap();
    data.write_number(2, 3, 0.85).unwrap();
    data.write_string(2, 4, "人工").unwrap();
    data.write_string(2, 5, "张三").unwrap();
    data.write_string(2, 6, "https://example.gov.cn/a").unwrap();
    data.write_datetime_with_format(2, 7, ExcelDateTime::from_ymd(2021, 6, 1).unwrap(), &date)
        .unwrap();
    data.write_string(2, 8, "清单完整").unwrap();
    data.write_string(3, 0, "武汉市").unwrap();
    data.write_string(3, 1, "S2.2").unwrap();
    data.write_string(3, 2, "2021").unwrap();
    data.write_boolean(3, 3, true).unwrap();
    book.save(&path).unwrap();

    let opts = ImportOptions {
        sheet: Some("数据".into()),
        ..ImportOptions::default()
    };
    let got = read(&path, &opts).unwrap();
    let f = "数据.xlsx";
    assert_eq!(
        got,
        vec![
            obs(
                f,
                3,
                None,
                "510100",
                "S1.1",
                2021,
                Value::Number(0.85),
                Source::Manual,
                Some("张三"),
                Some("https://example.gov.cn/a"),
                Some("2021-06-01"),
                Some("清单完整")
            ),
            obs(
                f,
                4,
                None,
                "420100",
                "S2.2",
                2021,
                text("true"),
                Source::Manual,
                None,
                None,
                None,
                None
            ),
        ]
    );

    // The first sheet is not an observation table; an unknown sheet name is a workbook error.
    assert!(matches!(
        read(&path, &ImportOptions::default()),
        Err(ImportError::Invalid { .. })
    ));
    let err = read(
        &path,
        &ImportOptions {
            sheet: Some("Sheet9".into()),
            ..ImportOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::Xlsx { reason, .. } if reason.contains("数据")),
        "{err}"
    );
}

#[test]
fn xlsx_wide_first_sheet_and_located_errors() {
    use rust_xlsxwriter::Workbook;
    let dir = TempDir::new("xlsx-wide");
    let path = dir.path("wide.xlsx");
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    header(s, 0, &["unit", "year", "S1.1", "S3.3", "I1.3"]);
    s.write_number(1, 0, 510100).unwrap();
    s.write_number(1, 1, 2021).unwrap();
    s.write_number(1, 2, 0.5).unwrap();
    s.write_number(1, 3, 2).unwrap();
    s.write_number(1, 4, 87.5).unwrap();
    s.write_string(2, 0, "420100").unwrap();
    s.write_number(2, 1, 2021).unwrap();
    s.write_string(2, 2, "60%").unwrap();
    book.save(&path).unwrap();

    let got = read(&path, &ImportOptions::default()).unwrap();
    let flat: Vec<(&str, &str, &Value, usize, Option<&str>)> = got
        .iter()
        .map(|o| {
            (
                o.unit.as_str(),
                o.indicator.as_str(),
                &o.value,
                o.origin.row,
                o.origin.column.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        flat,
        vec![
            ("510100", "S1.1", &Value::Number(0.5), 2, Some("S1.1")),
            ("510100", "S3.3", &Value::Number(2.0), 2, Some("S3.3")),
            ("510100", "I1.3", &Value::Number(87.5), 2, Some("I1.3")),
            ("420100", "S1.1", &text("60%"), 3, Some("S1.1")),
        ]
    );
    assert!(got
        .iter()
        .all(|o| o.year == 2021 && &*o.origin.file == "wide.xlsx"));

    let bad = dir.path("bad.xlsx");
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    header(s, 0, &["unit", "year", "S1.1", "S3.3"]);
    s.write_number(1, 0, 510100).unwrap();
    s.write_number(1, 1, 2021.5).unwrap();
    s.write_number(1, 2, 0.5).unwrap();
    s.write_number(2, 0, 510100).unwrap();
    s.write_number(2, 1, 2021).unwrap();
    s.write_number(2, 3, -1).unwrap();
    book.save(&bad).unwrap();
    let err = read(&bad, &ImportOptions::default()).unwrap_err();
    let located: Vec<(usize, Option<&str>)> = err
        .problems()
        .iter()
        .map(|p| (p.row, p.column.as_deref()))
        .collect();
    assert_eq!(located, vec![(2, Some("year")), (3, Some("S3.3"))], "{err}");
    assert!(err.problems()[0]
        .reason
        .contains("malformed year \"2021.5\""));
    assert!(err.problems()[1].reason.contains("count"));
}

/// A formula whose result was never computed (scripts write a placeholder 0 and ask the
/// spreadsheet to compute on opening) would read as 0 or as empty: it is refused with the
/// sheet, the cell and how to fix it.
#[test]
fn xlsx_formula_without_a_saved_result_is_refused_with_its_cell() {
    use rust_xlsxwriter::{Formula, Workbook};
    let dir = TempDir::new("xlsx-formula");
    let path = dir.path("formula.xlsx");
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    header(s, 0, &["unit", "year", "S1.1", "S3.3"]);
    s.write_number(1, 0, 510100).unwrap();
    s.write_number(1, 1, 2021).unwrap();
    s.write_formula(1, 2, Formula::new("=1/2").set_result(""))
        .unwrap();
    s.write_number(1, 3, 2).unwrap();
    book.save(&path).unwrap();

    let err = read(&path, &ImportOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cell C2 holds the formula =1/2 with no computed result")
            && msg.contains("open the file in Excel or LibreOffice and save it"),
        "{msg}"
    );
    assert_eq!(err.problems().len(), 1, "{msg}");
}
