//! `provenance.csv`: every input row a day used, at a cell that holds the
//! value it lists (checked by reading the cell back from the workbook or
//! the CSV, not by trusting the importer).

use calamine::{Data, Reader, Xlsx};
use crew_mrv_core::provenance::{day_inputs, Role};

use crate::fixtures::*;

const APR: &str = "PLANT_A-OPS DATA-APR25.xlsx";
const LAB: &str = "lab_results.csv";

/// Column letters to a 0-based index (`A` → 0, `AA` → 26).
fn col_index(letters: &str) -> usize {
    letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1))
        - 1
}

#[test]
fn each_input_row_a_day_used_names_the_cell_holding_its_value() {
    let wb = PlantA::month(d(2025, 4, 1), &[31.2, 40.0]);
    let mut lab = lab_pair("PLANT_A", d(2025, 4, 1), 39.8, 53.7);
    // The upstream sample reported twice: one sample, one collapsed row.
    lab.push(lab[0].clone());
    lab.extend(lab_pair("PLANT_A", d(2025, 4, 2), 40.0, 50.0));
    let lab_text = lab_table(lab).to_text(',');
    let xlsx = wb.xlsx();
    let r = run_default(&[src(APR, xlsx.clone()), src(LAB, lab_text.clone())]);

    let rows = day_inputs(&r, "PLANT_A", d(2025, 4, 1));
    let roles: Vec<(Role, &str, u32)> = rows.iter().map(|i| (i.role, &*i.file, i.row)).collect();
    assert_eq!(
        roles,
        [
            (Role::UpstreamSample, LAB, 2),
            (Role::DuplicateCollapsed, LAB, 4),
            (Role::DownstreamSample, LAB, 3),
            (Role::OperationsRow, APR, rows[3].row),
        ]
    );

    // Lab values read back from the CSV at the named row and column.
    let csv_lines: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(lab_text.as_bytes())
        .records()
        .map(|x| x.expect("csv").iter().map(str::to_string).collect())
        .collect();
    for i in rows.iter().filter(|i| &*i.file == LAB) {
        let cell = &csv_lines[i.row as usize - 1][col_index(&i.column)];
        assert_eq!(cell.parse::<f64>().ok(), i.value, "{}", i.cell());
        assert!(i.unique_id.is_some());
    }
    // The effluent flow read back from the workbook's named cell.
    let ops = &rows[3];
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).expect("xlsx");
    let sheet = ops.sheet.as_deref().expect("sheet");
    let range = book.worksheet_range(sheet).expect("sheet");
    let (r0, c0) = range.start().expect("start");
    let cell = range
        .get_value((
            ops.row - 1 - r0,
            u32::try_from(col_index(&ops.column)).expect("col") - c0,
        ))
        .expect("cell");
    let v = match cell {
        Data::Float(f) => *f,
        Data::Int(n) => *n as f64,
        Data::String(s) => s.trim().parse().expect("number"),
        other => panic!("{other:?}"),
    };
    assert_eq!(Some(v), ops.value);
    assert_eq!(ops.value, Some(31.2));
    assert_eq!(ops.cell(), format!("{}{}", ops.column, ops.row));

    // The CSV: one row per plant-day and input, the same rows.
    let (header, csv) = parse_csv(&{
        let mut v = Vec::new();
        crew_mrv_core::export::write_provenance(&r, &Default::default(), &mut v).expect("write");
        String::from_utf8(v).expect("utf-8")
    });
    assert_eq!(
        header,
        [
            "plant_id",
            "date",
            "role",
            "source_file",
            "sheet",
            "source_row",
            "column",
            "value",
            "unique_id",
            "uncertainty"
        ]
    );
    let day1: Vec<&str> = csv
        .iter()
        .filter(|x| x["date"] == "2025-04-01")
        .map(|x| x["role"].as_str())
        .collect();
    assert_eq!(
        day1,
        [
            "upstream_sample",
            "duplicate_collapsed",
            "downstream_sample",
            "operations_row"
        ]
    );
    assert_eq!(csv.iter().filter(|x| x["date"] == "2025-04-02").count(), 3);
}
