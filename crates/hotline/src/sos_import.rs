//! `hotline sos import FILE.csv`: loads the SOS handset registry (一键通) from a spreadsheet.
//!
//! The CSV is UTF-8 (an Excel BOM is fine) with a header row; columns are found by header name, in
//! any order, English or Chinese (see [`column`]). Contacts come either from one column
//! `张三:13800000001:儿子;李四:13900000002` (name:number[:relation], `;` or `；` between contacts) or
//! from `contact1_name`, `contact1_number`, `contact1_relation`, … columns (联系人1姓名, 联系人1电话,
//! 联系人1关系, …), up to 10.
//!
//! Every row is checked before anything is written: one bad row and nothing is imported, and every
//! problem is reported as `LINE: column: why` (the caller prefixes the file name). Parsing is pure;
//! only [`import`] touches the database.

use std::collections::HashMap;
use std::fmt;

use hotline_tickets::sos::{MAX_AGE, MAX_CONTACTS};
use hotline_tickets::{EmergencyContact, NewSosDevice, TicketError, TicketStore};

/// One problem in the file: `line` is 1-based (the header is line 1; a quoted multi-line field
/// counts from the line its record starts on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column as headed in the file (or a field name when no column applies).
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.line, self.column, self.reason)
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file is not usable: every problem found.
    Rows(Vec<RowError>),
    Store(TicketError),
}

/// What [`import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub inserted: u64,
    pub updated: u64,
}

impl fmt::Display for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} devices ({} new, {} updated)",
            self.inserted + self.updated,
            self.inserted,
            self.updated
        )
    }
}

/// Highest `contactN_*` column number.
const MAX_NUMBERED: usize = MAX_CONTACTS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    Number,
    Name,
    Age,
    Gender,
    Address,
    MedicalNotes,
    Community,
    PreferredHospital,
    Latitude,
    Longitude,
    Contacts,
    ContactName(usize),
    ContactNumber(usize),
    ContactRelation(usize),
}

/// The column a header names, English (any case; spaces or dashes for `_`) or Chinese.
fn column(header: &str) -> Option<Col> {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
    let col = match h.as_str() {
        "number" | "device_number" | "设备号码" | "设备号" => Col::Number,
        "name" | "姓名" => Col::Name,
        "age" | "年龄" => Col::Age,
        "gender" | "sex" | "性别" => Col::Gender,
        "address" | "住址" | "地址" => Col::Address,
        "medical_notes" | "病史" | "医疗备注" => Col::MedicalNotes,
        "community" | "社区" => Col::Community,
        "preferred_hospital" | "就近医院" | "首选医院" => Col::PreferredHospital,
        "latitude" | "纬度" => Col::Latitude,
        "longitude" | "经度" => Col::Longitude,
        "contacts" | "紧急联系人" => Col::Contacts,
        _ => return numbered_contact(&h),
    };
    Some(col)
}

/// `contact2_number`, `联系人2电话`, …
fn numbered_contact(h: &str) -> Option<Col> {
    let (rest, english) = match h.strip_prefix("contact") {
        Some(r) => (r, true),
        None => (h.strip_prefix("联系人")?, false),
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let n: usize = rest[..digits].parse().ok()?;
    if !(1..=MAX_NUMBERED).contains(&n) {
        return None;
    }
    let suffix = &rest[digits..];
    let suffix = if english {
        suffix.strip_prefix('_')?
    } else {
        suffix
    };
    match suffix {
        "name" | "姓名" => Some(Col::ContactName(n)),
        "number" | "电话" | "号码" => Some(Col::ContactNumber(n)),
        "relation" | "关系" => Some(Col::ContactRelation(n)),
        _ => None,
    }
}

const KNOWN_COLUMNS: &str = "number/设备号码, name/姓名, age/年龄, gender/性别, address/住址, \
     medical_notes/病史, community/社区, preferred_hospital/就近医院, latitude/纬度, longitude/经度, \
     contacts/紧急联系人, contactN_name|number|relation/联系人N姓名|电话|关系";

/// The file's bytes as text: UTF-8, BOM dropped. Excel's plain "CSV" on a Chinese Windows is GBK,
/// and its "Unicode text" is UTF-16: say how to save the file instead of reading mojibake.
pub fn decode(bytes: &[u8]) -> Result<&str, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the file is UTF-16; save it as \"CSV UTF-8\" (逗号分隔)".into());
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (at byte {}); in Excel save as \"CSV UTF-8 (逗号分隔)\" (GBK is not accepted)",
            e.valid_up_to()
        )
    })
}

/// The header row, checked: which column is where, and how each is headed in the file.
struct Header {
    cols: Vec<Option<Col>>,
    names: HashMap<Col, String>,
}

impl Header {
    fn parse(record: &csv::StringRecord, errors: &mut Vec<RowError>) -> Header {
        let mut cols = Vec::with_capacity(record.len());
        let mut names: HashMap<Col, String> = HashMap::new();
        let err = |column: &str, reason: String| RowError {
            line: 1,
            column: column.to_string(),
            reason,
        };
        for h in record.iter() {
            if h.is_empty() {
                // Excel leaves headerless trailing columns; their cells are ignored.
                cols.push(None);
                continue;
            }
            match column(h) {
                None => {
                    errors.push(err(h, format!("unknown column (known: {KNOWN_COLUMNS})")));
                    cols.push(None);
                }
                Some(c) => {
                    if let Some(first) = names.get(&c) {
                        errors.push(err(h, format!("the same column as {first:?}")));
                        cols.push(None);
                    } else {
                        names.insert(c, h.to_string());
                        cols.push(Some(c));
                    }
                }
            }
        }
        for (c, what) in [
            (Col::Number, "number/设备号码"),
            (Col::Name, "name/姓名"),
            (Col::Address, "address/住址"),
        ] {
            if !names.contains_key(&c) {
                errors.push(err(what, "required column missing".into()));
            }
        }
        let numbered = names.keys().any(|c| {
            matches!(
                c,
                Col::ContactName(_) | Col::ContactNumber(_) | Col::ContactRelation(_)
            )
        });
        if numbered {
            if let Some(h) = names.get(&Col::Contacts) {
                errors.push(err(
                    h,
                    "use either this column or contactN_* columns, not both".into(),
                ));
            }
        }
        Header { cols, names }
    }

    /// How `c` is headed in the file.
    fn name(&self, c: Col) -> String {
        self.names.get(&c).cloned().unwrap_or_else(|| match c {
            Col::ContactName(n) => format!("contact{n}_name"),
            Col::ContactNumber(n) => format!("contact{n}_number"),
            Col::ContactRelation(n) => format!("contact{n}_relation"),
            // Only the columns above can be absent when a row refers to them.
            other => format!("{other:?}").to_lowercase(),
        })
    }
}

/// Where each contact of a row came from, to point an error at the right column.
enum ContactSource {
    /// The single contacts column.
    List,
    /// `contactN_*` columns: the N of each contact, in order.
    Numbered(Vec<usize>),
}

/// Reads the whole file; every device, or every problem found.
pub fn parse(text: &str) -> Result<Vec<NewSosDevice>, Vec<RowError>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut errors = Vec::new();
    let header = match records.next() {
        None => {
            return Err(vec![RowError {
                line: 1,
                column: "header".into(),
                reason: "the file is empty (a header row is required)".into(),
            }])
        }
        Some(Err(e)) => return Err(vec![csv_error(&e)]),
        Some(Ok(r)) => Header::parse(&r, &mut errors),
    };
    if !errors.is_empty() {
        // Without the right columns every row would only repeat the same complaint.
        return Err(errors);
    }
    let mut devices = Vec::new();
    // Normalised number -> line first given: a number twice in one file is almost surely a typo.
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_error(&e));
                // A broken quote makes the rest of the file unreliable.
                if matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::Io(_)
                ) {
                    break;
                }
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        match parse_row(&header, &record, line) {
            Err(mut e) => errors.append(&mut e),
            Ok(d) => {
                if let Some(first) = seen.get(&d.number) {
                    errors.push(RowError {
                        line,
                        column: header.name(Col::Number),
                        reason: format!("{} is already on line {first}", d.number),
                    });
                } else {
                    seen.insert(d.number.clone(), line);
                    devices.push(d);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(devices)
    } else {
        Err(errors)
    }
}

fn csv_error(e: &csv::Error) -> RowError {
    RowError {
        line: e.position().map_or(0, |p| p.line()),
        column: "csv".into(),
        reason: e.to_string(),
    }
}

/// One data row: the device as it will be stored (validated), or every problem in it.
fn parse_row(
    header: &Header,
    record: &csv::StringRecord,
    line: u64,
) -> Result<NewSosDevice, Vec<RowError>> {
    let mut errors = Vec::new();
    if record.len() > header.cols.len() {
        let extra = record.iter().skip(header.cols.len()).any(|f| !f.is_empty());
        if extra {
            errors.push(RowError {
                line,
                column: "row".into(),
                reason: format!(
                    "{} fields but the header has {} columns",
                    record.len(),
                    header.cols.len()
                ),
            });
        }
    }
    let mut err = |c: Col, reason: String| {
        errors.push(RowError {
            line,
            column: header.name(c),
            reason,
        })
    };
    let mut d = NewSosDevice::default();
    let mut numbered: [(String, String, String); MAX_NUMBERED] = Default::default();
    let mut list = None;
    for (value, col) in record.iter().zip(&header.cols) {
        let Some(col) = *col else { continue };
        let opt = || (!value.is_empty()).then(|| value.to_string());
        match col {
            Col::Number => d.number = value.into(),
            Col::Name => d.name = value.into(),
            Col::Gender => d.gender = opt(),
            Col::Address => d.address = value.into(),
            Col::MedicalNotes => d.medical_notes = value.into(),
            Col::Community => d.community = opt(),
            Col::PreferredHospital => d.preferred_hospital = opt(),
            Col::Age if value.is_empty() => {}
            Col::Age => match value.trim_end_matches('岁').trim().parse::<u16>() {
                Ok(a) if a <= MAX_AGE => d.age = Some(a),
                _ => err(
                    col,
                    format!("{value:?} is not a whole number 0 to {MAX_AGE}"),
                ),
            },
            Col::Latitude | Col::Longitude if value.is_empty() => {}
            Col::Latitude | Col::Longitude => match value.parse::<f64>() {
                Ok(x) if col == Col::Latitude => d.latitude = Some(x),
                Ok(x) => d.longitude = Some(x),
                Err(_) => err(col, format!("{value:?} is not a number")),
            },
            Col::Contacts => match contact_list(value) {
                Ok(c) => list = Some(c),
                Err(reason) => err(col, reason),
            },
            Col::ContactName(n) => numbered[n - 1].0 = value.into(),
            Col::ContactNumber(n) => numbered[n - 1].1 = value.into(),
            Col::ContactRelation(n) => numbered[n - 1].2 = value.into(),
        }
    }
    let source = match list {
        Some(contacts) => {
            d.contacts = contacts;
            ContactSource::List
        }
        None => {
            let mut ns = Vec::new();
            for (i, (name, number, relation)) in numbered.into_iter().enumerate() {
                // A blank group is skipped (contact 2 may be left empty while 3 is filled).
                if name.is_empty() && number.is_empty() && relation.is_empty() {
                    continue;
                }
                ns.push(i + 1);
                d.contacts.push(EmergencyContact {
                    name,
                    relation: (!relation.is_empty()).then_some(relation),
                    number,
                });
            }
            ContactSource::Numbered(ns)
        }
    };
    // The store's own rules, so that the import accepts exactly what the API accepts. It stops at
    // its first complaint, which is still worth reporting beside the cells that did not parse.
    match d.validate() {
        Ok(d) if errors.is_empty() => Ok(d),
        Ok(_) => Err(errors),
        Err(e) => {
            let (column, reason) = match e {
                TicketError::Invalid { field, reason } => {
                    (field_column(header, &source, &field), reason)
                }
                other => ("row".into(), other.to_string()),
            };
            if !errors.iter().any(|e| e.column == column) {
                errors.push(RowError {
                    line,
                    column,
                    reason,
                });
            }
            Err(errors)
        }
    }
}

/// `张三:13800000001:儿子;李四:13900000002` (full-width `；` `：` too).
fn contact_list(value: &str) -> Result<Vec<EmergencyContact>, String> {
    value
        .split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, entry)| {
            let parts: Vec<&str> = entry.split([':', '：']).map(str::trim).collect();
            match parts[..] {
                [name, number] | [name, number, ""] => Ok(EmergencyContact {
                    name: name.into(),
                    relation: None,
                    number: number.into(),
                }),
                [name, number, relation] => Ok(EmergencyContact {
                    name: name.into(),
                    relation: Some(relation.into()),
                    number: number.into(),
                }),
                _ => Err(format!(
                    "contact {} {entry:?}: expected name:number[:relation]",
                    i + 1
                )),
            }
        })
        .collect()
}

/// The column a store field name (`name`, `contacts[1].number`) came from.
fn field_column(header: &Header, source: &ContactSource, field: &str) -> String {
    let simple = match field {
        "number" => Some(Col::Number),
        "name" => Some(Col::Name),
        "age" => Some(Col::Age),
        "gender" => Some(Col::Gender),
        "address" => Some(Col::Address),
        "medical_notes" => Some(Col::MedicalNotes),
        "community" => Some(Col::Community),
        "preferred_hospital" => Some(Col::PreferredHospital),
        "latitude" => Some(Col::Latitude),
        "longitude" => Some(Col::Longitude),
        _ => None,
    };
    if let Some(c) = simple {
        // A rule across columns (latitude needs longitude) may name one the file lacks.
        return header
            .names
            .get(&c)
            .cloned()
            .unwrap_or_else(|| field.to_string());
    }
    // contacts[i].part
    let contact = field
        .strip_prefix("contacts[")
        .and_then(|r| r.split_once("]."))
        .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)));
    match (contact, source) {
        (Some((i, part)), ContactSource::List) => {
            format!("{} (contact {}, {part})", header.name(Col::Contacts), i + 1)
        }
        (Some((i, part)), ContactSource::Numbered(ns)) => {
            let n = ns.get(i).copied().unwrap_or(i + 1);
            header.name(match part {
                "name" => Col::ContactName(n),
                "relation" => Col::ContactRelation(n),
                _ => Col::ContactNumber(n),
            })
        }
        (None, ContactSource::List) => header.name(Col::Contacts),
        (None, ContactSource::Numbered(_)) => field.to_string(),
    }
}

/// Parses `text` and writes every device in one transaction.
pub async fn import(store: &TicketStore, text: &str) -> Result<Imported, ImportError> {
    let devices = parse(text).map_err(ImportError::Rows)?;
    let (inserted, updated) = store
        .upsert_sos_devices(&devices)
        .await
        .map_err(ImportError::Store)?;
    Ok(Imported { inserted, updated })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER_EN: &str =
        "number,name,age,gender,address,medical_notes,community,preferred_hospital,contacts";

    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn english_headers_and_contact_list() {
        let text = format!(
            "{HEADER_EN}\n\
             +86 138-0000-0001,王秀兰,82,女,深圳市福田区莲花北村1栋,高血压,莲花北,深圳市第二人民医院,\
             张三:13800000011:儿子;李四：13900000012；王五:0755-8888-0013:邻居\n"
        );
        let d = parse(&text).unwrap();
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert_eq!(d.number, "13800000001");
        assert_eq!((d.name.as_str(), d.age), ("王秀兰", Some(82)));
        assert_eq!(d.gender.as_deref(), Some("女"));
        assert_eq!(d.community.as_deref(), Some("莲花北"));
        assert_eq!(d.preferred_hospital.as_deref(), Some("深圳市第二人民医院"));
        let c: Vec<_> = d
            .contacts
            .iter()
            .map(|c| (c.name.as_str(), c.number.as_str(), c.relation.as_deref()))
            .collect();
        assert_eq!(
            c,
            [
                ("张三", "13800000011", Some("儿子")),
                ("李四", "13900000012", None),
                ("王五", "075588880013", Some("邻居")),
            ]
        );
    }

    #[test]
    fn chinese_headers_any_order_bom_quotes_and_numbered_contacts() {
        let text = "\u{FEFF}姓名,设备号码,住址,病史,联系人1姓名,联系人1电话,联系人1关系,\
                    联系人3姓名,联系人3电话,年龄,社区,首选医院,性别\r\n\
                    李桂英,13800000002,\"深圳市南山区桃源街道, 龙联花园3栋\",\"糖尿病\n青霉素过敏\",\
                    陈明,13900000021,女儿,赵刚,13900000023,79岁,桃源,南山医院,女\r\n\
                    ,,,,,,,,,,,,\r\n\
                    张建国,13800000003,深圳市宝安区,,,,,,,,,,\r\n";
        let d = parse(text).unwrap();
        assert_eq!(d.len(), 2, "the blank row is skipped");
        assert_eq!(d[0].name, "李桂英");
        assert_eq!(d[0].address, "深圳市南山区桃源街道, 龙联花园3栋");
        assert_eq!(d[0].medical_notes, "糖尿病\n青霉素过敏");
        assert_eq!(d[0].age, Some(79));
        assert_eq!(d[0].contacts.len(), 2);
        assert_eq!(d[0].contacts[0].relation.as_deref(), Some("女儿"));
        assert_eq!(d[0].contacts[1].name, "赵刚");
        assert_eq!(d[0].contacts[1].relation, None);
        assert_eq!(d[1].age, None);
        assert!(d[1].contacts.is_empty());
        assert_eq!(d[1].community, None);
    }

    #[test]
    fn english_numbered_contacts_and_case() {
        let text = "Number,Name,Address,Contact1_Name,contact1 number,Latitude,Longitude\n\
                    13800000004,陈德明,深圳市罗湖区,陈小明,13900000041,22.55,114.12\n";
        let d = parse(text).unwrap();
        assert_eq!(d[0].contacts[0].number, "13900000041");
        assert_eq!((d[0].latitude, d[0].longitude), (Some(22.55), Some(114.12)));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        // The record on line 2 spans two lines (a quoted newline): the next one starts on line 4.
        let text = format!(
            "{HEADER_EN}\n\
             13800000001,王秀兰,82,女,深圳市福田区,\"多行\n备注\",,,\n\
             13800000002,,80,,深圳市,,,,\n\
             abc,李桂英,200,,深圳市,,,,\n\
             13800000003,张建国,70,,深圳市,,,,张三-13800000011\n\
             13800000004,陈德明,70,,深圳市,,,,张三:12\n\
             +8613800000001,王秀兰,82,女,深圳市福田区,,,,\n"
        );
        assert_eq!(
            errors(&text),
            [
                "4: name: required",
                "5: age: \"200\" is not a whole number 0 to 150",
                "5: number: \"abc\" is not a phone number (3 to 20 digits, optionally +86)",
                "6: contacts: contact 1 \"张三-13800000011\": expected name:number[:relation]",
                "7: contacts (contact 1, number): \"12\" is not a phone number (3 to 20 digits, optionally +86)",
                "8: number: 13800000001 is already on line 2",
            ]
        );
    }

    #[test]
    fn bad_number_and_numbered_contact_errors_point_at_their_column() {
        let text = "设备号码,姓名,住址,联系人2姓名,联系人2电话\n\
                    abc,王秀兰,深圳,张三,13800000011\n\
                    13800000001,王秀兰,深圳,张三,1\n\
                    13800000002,王秀兰,深圳,,13800000011\n";
        assert_eq!(
            errors(text),
            [
                "2: 设备号码: \"abc\" is not a phone number (3 to 20 digits, optionally +86)",
                "3: 联系人2电话: \"1\" is not a phone number (3 to 20 digits, optionally +86)",
                "4: 联系人2姓名: required",
            ]
        );
    }

    #[test]
    fn a_rule_across_columns_names_the_missing_one() {
        assert_eq!(
            errors("number,name,address,纬度\n13800000001,a,b,22.5\n"),
            ["2: longitude: required with latitude"]
        );
    }

    #[test]
    fn header_problems() {
        assert_eq!(
            errors("name,phone,address\n"),
            [
                format!("1: phone: unknown column (known: {KNOWN_COLUMNS})"),
                "1: number/设备号码: required column missing".to_string(),
            ]
        );
        assert_eq!(
            errors("number,name,address,地址\n"),
            ["1: 地址: the same column as \"address\""]
        );
        assert_eq!(
            errors("number,name,address,contacts,contact1_name\n"),
            ["1: contacts: use either this column or contactN_* columns, not both"]
        );
        assert_eq!(
            errors(""),
            ["1: header: the file is empty (a header row is required)"]
        );
        // Trailing headerless columns are fine.
        assert_eq!(parse("number,name,address,,\n").unwrap(), vec![]);
        assert_eq!(
            errors("number,name,address\n13800000001,a,b,extra\n"),
            ["2: row: 4 fields but the header has 3 columns"]
        );
    }

    #[test]
    fn decode_handles_bom_and_refuses_other_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFnumber").unwrap(), "number");
        assert!(decode(b"\xFF\xFEn\0").unwrap_err().contains("UTF-16"));
        // "姓名" in GBK.
        assert!(decode(b"\xD0\xD5\xC3\xFB").unwrap_err().contains("UTF-8"));
    }

    const SAMPLE: &str = "number,name,address,contacts\n\
                          13800000001,王秀兰,深圳市福田区,张三:13800000011:儿子\n\
                          13800000002,李桂英,深圳市南山区,\n";

    #[tokio::test]
    async fn import_into_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = TicketStore::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let r = import(&store, SAMPLE).await.unwrap();
        assert_eq!(r.to_string(), "imported 2 devices (2 new, 0 updated)");
        let d = store
            .sos_device("+86 138 0000 0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.contacts[0].relation.as_deref(), Some("儿子"));

        let more = format!("{SAMPLE}13800000003,张建国,深圳市宝安区,\n");
        let r = import(&store, &more).await.unwrap();
        assert_eq!(r.to_string(), "imported 3 devices (1 new, 2 updated)");

        // A bad row: nothing written, not even the good rows.
        let bad = "number,name,address\n13800000009,陈德明,深圳\n13800000010,,深圳\n";
        match import(&store, bad).await {
            Err(ImportError::Rows(e)) => assert_eq!(e[0].to_string(), "3: name: required"),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.sos_device("13800000009").await.unwrap(), None);
    }

    #[test]
    fn example_file_parses() {
        let text = include_str!("../../../config/sos-devices.example.csv");
        let d = parse(decode(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(d.len(), 3);
        assert!(d.iter().all(|d| !d.contacts.is_empty()));
    }
}
