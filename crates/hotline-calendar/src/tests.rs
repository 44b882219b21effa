use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An instant given in Shanghai local time.
fn cst(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    shanghai()
        .from_local_datetime(&d(y, m, day).and_hms_opt(h, min, 0).unwrap())
        .unwrap()
}

fn shipped() -> Calendar {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/calendar");
    Calendar::from_dir(dir).unwrap()
}

fn err(files: &[(&str, &str)]) -> CalendarError {
    Calendar::from_strs(files.iter().copied()).unwrap_err()
}

const HEAD_2026: &str = "year = 2026\npublished = true\nsource = \"test\"\n";

// ---------------------------------------------------------------- shipped data

#[test]
fn every_shipped_year_loads() {
    let cal = shipped();
    for y in 2024..=2026 {
        let info = cal.year_info(y).unwrap();
        assert!(info.published, "{y}");
        assert!(!cal.is_provisional(y), "{y}");
        assert!(
            info.source.contains(&format!("{y}年部分节假日安排")),
            "{y}: {}",
            info.source
        );
    }
    // The 2027 notice was not available: shipped as unpublished, so Monday–Friday and provisional.
    assert!(!cal.year_info(2027).unwrap().published);
    assert!(cal.is_provisional(2027));
}

#[test]
fn each_shipped_file_loads_alone_from_its_text() {
    for y in 2024..=2027 {
        let path = format!(
            "{}/../../config/calendar/{y}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        Calendar::from_strs([(path.as_str(), text.as_str())]).unwrap();
    }
}

#[test]
fn make_up_days_of_2026_are_working_days() {
    let cal = shipped();
    // The six the issue names: all weekend days worked under the 2026 notice.
    for (m, day) in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)] {
        let date = d(2026, m, day);
        assert!(!is_weekday(date), "{date} should be a weekend day");
        assert!(cal.is_working_day(date), "{date}");
        assert_eq!(cal.kind_of(date), Kind::Workday);
    }
    // And no other weekend day of 2026 is worked.
    let worked_weekend = (1..=365)
        .filter_map(|o| d(2026, 1, 1).checked_add_days(Days::new(o - 1)))
        .filter(|x| !is_weekday(*x) && cal.is_working_day(*x))
        .count();
    assert_eq!(worked_weekend, 6);
}

#[test]
fn days_off_of_2026() {
    let cal = shipped();
    for day in 1..=7 {
        assert!(!cal.is_working_day(d(2026, 10, day)), "10-{day}");
        assert_eq!(cal.holiday_name(d(2026, 10, day)), Some("国庆节"));
    }
    for day in 15..=23 {
        assert!(!cal.is_working_day(d(2026, 2, day)), "02-{day}");
    }
    assert!(!cal.is_working_day(d(2026, 1, 1)));
    assert!(!cal.is_working_day(d(2026, 1, 2)));
    assert!(!cal.is_working_day(d(2026, 5, 5)));
    assert!(!cal.is_working_day(d(2026, 6, 19)));
    assert!(!cal.is_working_day(d(2026, 9, 25)));
    assert!(cal.is_working_day(d(2026, 10, 8)));
    // An ordinary Monday, not listed anywhere.
    assert!(cal.is_working_day(d(2026, 3, 2)));
    assert_eq!(cal.kind_of(d(2026, 3, 2)), Kind::Default);
}

#[test]
fn from_2025_spring_festival_and_labour_day_are_longer() {
    let cal = shipped();
    // 2025 Spring Festival: 28 Jan (eve) to 4 Feb, 8 days; Labour Day 1–5 May.
    let off = |from: NaiveDate, to: NaiveDate| {
        from.iter_days()
            .take_while(|x| *x <= to)
            .filter(|x| !cal.is_working_day(*x))
            .count()
    };
    assert_eq!(off(d(2025, 1, 28), d(2025, 2, 4)), 8);
    assert_eq!(off(d(2025, 5, 1), d(2025, 5, 5)), 5);
    assert!(cal.is_working_day(d(2025, 1, 26)));
    assert!(cal.is_working_day(d(2025, 10, 11)));
    assert!(!cal.is_working_day(d(2025, 10, 8)));
    // 2024 still had 4 make-up days around Labour Day and Qingming.
    assert!(cal.is_working_day(d(2024, 4, 7)));
    assert!(cal.is_working_day(d(2024, 5, 11)));
}

// ---------------------------------------------------------------- the examples

#[test]
fn complaint_on_the_evening_before_national_day_with_5_working_days() {
    let cal = shipped();
    // Received Wed 30 Sep 2026, 20:00. Counting starts the day after receipt:
    // 1–7 Oct off; 8 Oct Thu = 1, 9 Oct Fri = 2, 10 Oct Sat (make-up) = 3, 11 Oct Sun off,
    // 12 Oct Mon = 4, 13 Oct Tue = 5 → due at the end of Tue 13 Oct (15:59:59.999 UTC).
    let dl = cal.add_working_days(&cst(2026, 9, 30, 20, 0), 5);
    assert_eq!(dl.due, end_of_day(d(2026, 10, 13)));
    assert_eq!(dl.due.to_rfc3339(), "2026-10-13T15:59:59.999+00:00");
    assert!(!dl.provisional);
    assert_eq!(cal.working_days_between(d(2026, 9, 30), d(2026, 10, 13)), 5);
}

#[test]
fn help_request_on_the_friday_before_spring_festival() {
    let cal = shipped();
    let fri = cst(2026, 2, 13, 10, 30);
    // 14 Feb Sat (make-up) = 1; 15–23 Feb off; 24 Feb Tue = 2.
    assert_eq!(
        cal.add_working_days(&fri, 2).due,
        end_of_day(d(2026, 2, 24))
    );
    // … 25 = 3, 26 = 4, 27 = 5, 28 Feb Sat (make-up) = 6, 1 Mar Sun off, 2 Mar = 7, 3 = 8, 4 = 9, 5 Mar Thu = 10.
    let ten = cal.add_working_days(&fri, 10);
    assert_eq!(ten.due, end_of_day(d(2026, 3, 5)));
    assert!(!ten.provisional);
    // One working day (sign, callback): the Saturday make-up day.
    assert_eq!(
        cal.add_working_days(&fri, 1).due,
        end_of_day(d(2026, 2, 14))
    );
}

#[test]
fn a_saturday_make_up_day_counts() {
    let cal = shipped();
    // Received on Fri 8 May 2026: the first working day after it is Sat 9 May (make-up for Labour Day).
    assert_eq!(cal.next_working_day(d(2026, 5, 8)), Some(d(2026, 5, 9)));
    assert_eq!(
        cal.add_working_days(&cst(2026, 5, 8, 9, 0), 1).due,
        end_of_day(d(2026, 5, 9))
    );
    // Received on the make-up Saturday itself: n = 0 ends that same day, n = 1 on Mon 11 May.
    let sat = cst(2026, 5, 9, 9, 0);
    assert_eq!(cal.add_working_days(&sat, 0).due, end_of_day(d(2026, 5, 9)));
    assert_eq!(
        cal.add_working_days(&sat, 1).due,
        end_of_day(d(2026, 5, 11))
    );
    // A Sunday make-up day too: received during the New Year break, 1 WD is Sun 4 Jan.
    assert_eq!(
        cal.add_working_days(&cst(2026, 1, 2, 12, 0), 1).due,
        end_of_day(d(2026, 1, 4))
    );
}

#[test]
fn n_zero_on_a_day_off_is_the_next_working_day() {
    let cal = shipped();
    assert_eq!(
        cal.add_working_days(&cst(2026, 10, 3, 12, 0), 0).due,
        end_of_day(d(2026, 10, 8))
    );
    assert_eq!(
        cal.add_working_days(&cst(2026, 10, 8, 0, 0), 0).due,
        end_of_day(d(2026, 10, 8))
    );
}

#[test]
fn year_boundary_into_an_unpublished_year() {
    let mut cal = shipped();
    // Thu 31 Dec 2026 + 3 WD. 2027 has no notice, so Mon–Fri: Fri 1 Jan = 1, Mon 4 = 2, Tue 5 = 3.
    let received = cst(2026, 12, 31, 16, 0);
    let dl = cal.add_working_days(&received, 3);
    assert_eq!(dl.due, end_of_day(d(2027, 1, 5)));
    assert!(dl.provisional, "2027 has no official schedule yet");
    // Once the API enters New Year's Day 2027 as a day off and marks the year published, the deadline moves
    // a day and is firm.
    cal.set_day(d(2027, 1, 1), Kind::DayOff);
    cal.set_year(2027, true, "test notice");
    let dl = cal.add_working_days(&received, 3);
    assert_eq!(dl.due, end_of_day(d(2027, 1, 6)));
    assert!(!dl.provisional);
}

#[test]
fn a_year_without_data_is_monday_to_friday_and_provisional() {
    let cal = shipped();
    assert!(cal.is_provisional(2030));
    assert!(cal.year_info(2030).is_none());
    // 1 Jan 2030 is a Tuesday: a working day by the fallback rule.
    assert!(cal.is_working_day(d(2030, 1, 1)));
    assert!(!cal.is_working_day(d(2030, 1, 5)));
    let dl = cal.add_working_days(&cst(2030, 1, 4, 9, 0), 1);
    assert_eq!(dl.due, end_of_day(d(2030, 1, 7)));
    assert!(dl.provisional);
    // An empty calendar: everything provisional.
    let empty = Calendar::new();
    assert!(empty.is_provisional(2026));
    assert!(
        empty
            .add_working_days(&cst(2026, 9, 30, 20, 0), 5)
            .provisional
    );
}

#[test]
fn receipt_time_is_taken_in_shanghai() {
    let cal = shipped();
    // 12 Feb 17:00 UTC is already Fri 13 Feb 01:00 in Shanghai, so 1 WD is Sat 14 Feb (make-up), not 13 Feb.
    let received = Utc.with_ymd_and_hms(2026, 2, 12, 17, 0, 0).unwrap();
    assert_eq!(
        cal.add_working_days(&received, 1).due,
        end_of_day(d(2026, 2, 14))
    );
}

// ---------------------------------------------------------------- other clocks and helpers

#[test]
fn natural_time_clocks_ignore_holidays() {
    let cal = shipped();
    let received = cst(2026, 9, 30, 20, 0);
    let normal = cal.add_hours(&received, 24);
    assert_eq!(
        normal.due,
        received.with_timezone(&Utc) + TimeDelta::hours(24)
    );
    assert!(!normal.provisional);
    let urgent = cal.add_duration(&received, TimeDelta::minutes(15));
    assert_eq!(urgent.due.to_rfc3339(), "2026-09-30T12:15:00+00:00");
    let far = cal.add_duration(&received, TimeDelta::MAX);
    assert_eq!(far.due, DateTime::<Utc>::MAX_UTC);
    assert!(far.provisional);
}

#[test]
fn fractions_and_warning_stages() {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let due = start + TimeDelta::hours(10);
    let at = |h: i64| fraction_elapsed(start, due, start + TimeDelta::hours(h));
    assert_eq!(at(-1), 0.0);
    assert_eq!(at(5), 0.5);
    assert_eq!(at(8), 0.8);
    assert_eq!(at(15), 1.5);
    assert_eq!(Stage::from_fraction(at(4)), Stage::OnTrack);
    assert_eq!(Stage::from_fraction(at(5)), Stage::HalfUsed);
    assert_eq!(Stage::from_fraction(at(8)), Stage::NearlyDue);
    assert_eq!(Stage::from_fraction(at(10)), Stage::Overdue);
    // A zero-length clock does not divide by zero.
    assert_eq!(
        fraction_elapsed(start, start, start - TimeDelta::seconds(1)),
        0.0
    );
    assert_eq!(fraction_elapsed(start, start, start), 1.0);
}

#[test]
fn working_days_between_agrees_with_add_working_days() {
    let cal = shipped();
    let mut day = d(2023, 12, 1);
    while day <= d(2027, 2, 1) {
        let received = shanghai()
            .from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
            .unwrap();
        for n in [1u32, 2, 3, 5, 7, 10, 15, 30, 60] {
            let due = cal
                .add_working_days(&received, n)
                .due
                .with_timezone(&shanghai())
                .date_naive();
            assert_eq!(
                cal.working_days_between(day, due),
                i64::from(n),
                "{day} + {n}"
            );
            // Checked against plain day-by-day counting too, so the week-skipping shortcut is covered.
            let naive = day
                .iter_days()
                .skip(1)
                .filter(|x| cal.is_working_day(*x))
                .nth(n as usize - 1)
                .unwrap();
            assert_eq!(due, naive, "{day} + {n}");
            assert!(cal.is_working_day(due));
        }
        day = day.succ_opt().unwrap();
    }
    assert_eq!(
        cal.working_days_between(d(2026, 10, 13), d(2026, 9, 30)),
        -5
    );
    assert_eq!(
        cal.working_days_between(d(2026, 10, 13), d(2026, 10, 13)),
        0
    );
}

#[test]
fn huge_inputs_saturate_instead_of_panicking() {
    let cal = shipped();
    let dl = cal.add_working_days(&cst(2026, 1, 5, 9, 0), u32::MAX);
    assert_eq!(dl.due, DateTime::<Utc>::MAX_UTC);
    assert!(dl.provisional);
    assert_eq!(cal.next_working_day(NaiveDate::MAX), None);
    let _ = cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX);
    let _ = end_of_day(NaiveDate::MAX);
    let _ = end_of_day(NaiveDate::MIN);
}

#[test]
fn set_day_edits_and_reverts() {
    let mut cal = shipped();
    let mon = d(2026, 3, 2);
    cal.set_day(mon, Kind::DayOff);
    assert!(!cal.is_working_day(mon));
    assert_eq!(cal.holiday_name(mon), None);
    cal.set_day(mon, Kind::Default);
    assert!(cal.is_working_day(mon));
    // Reverting an official make-up day drops it back to an ordinary Saturday.
    cal.set_day(d(2026, 10, 10), Kind::Default);
    assert!(!cal.is_working_day(d(2026, 10, 10)));
    cal.set_day(d(2026, 10, 10), Kind::Workday);
    assert!(cal.is_working_day(d(2026, 10, 10)));
    // Setting a day in a year without data does not make that year firm.
    cal.set_day(d(2031, 1, 1), Kind::DayOff);
    assert!(cal.is_provisional(2031));
}

// ---------------------------------------------------------------- invalid files

#[test]
fn a_day_both_off_and_a_workday_is_an_error() {
    let text = format!(
        "{HEAD_2026}\n[[holidays]]\nname = \"a\"\ndays_off = [\"2026-10-10\"]\n\n[[holidays]]\nname = \"b\"\nmake_up_workdays = [\n  \"2026-10-10\",\n]\n"
    );
    let e = err(&[("2026.toml", &text)]);
    assert_eq!(e.file, "2026.toml");
    assert_eq!(e.line, 12, "{e}");
    assert_eq!(e.key, "holidays[1].make_up_workdays[0]");
    assert!(
        e.message
            .contains("both a day off and a make-up working day"),
        "{e}"
    );
    assert!(e.message.contains("holidays[0].days_off[0]"), "{e}");
}

#[test]
fn a_date_outside_the_year_is_an_error() {
    let text = format!(
        "{HEAD_2026}[[holidays]]\nname = \"元旦\"\ndays_off = [\"2026-01-01\", \"2025-12-31\"]\n"
    );
    let e = err(&[("x.toml", &text)]);
    assert_eq!(
        (e.line, e.key.as_str()),
        (6, "holidays[0].days_off[1]"),
        "{e}"
    );
    assert!(e.message.contains("outside this file's year 2026"), "{e}");
}

#[test]
fn bad_dates_are_errors() {
    for bad in ["2026-02-30", "2026-2-5", "26-02-05", "tomorrow"] {
        let text = format!("{HEAD_2026}[[holidays]]\nname = \"x\"\ndays_off = [\"{bad}\"]\n");
        let e = err(&[("x.toml", &text)]);
        assert_eq!(
            (e.line, e.key.as_str()),
            (6, "holidays[0].days_off[0]"),
            "{bad}: {e}"
        );
        assert!(e.message.contains("not a date"), "{e}");
    }
    let text = format!("{HEAD_2026}[[holidays]]\nname = \"x\"\ndays_off = [20260101]\n");
    assert_eq!(err(&[("x.toml", &text)]).line, 6);
}

#[test]
fn other_mistakes_are_located() {
    let cases: &[(&str, usize, &str, &str)] = &[
        // text, line, key, message fragment
        ("year = 2026\npublished = true\n", 1, "source", "missing key"),
        ("year = \"2026\"\npublished = true\nsource = \"s\"\n", 1, "year", "expected a year"),
        (
            "year = 2026\npublished = true\nsource = \"s\"\nholiday = []\n",
            4,
            "holiday",
            "unknown key",
        ),
        (
            "year = 2026\npublished = true\nsource = \"s\"\n[[holidays]]\nname = \"x\"\ndays = []\n",
            6,
            "holidays[0].days",
            "unknown key",
        ),
        ("year = 2026\npublished = yes\n", 2, "(syntax)", ""),
        (
            "year = 2026\npublished = false\nsource = \"s\"\n[[holidays]]\nname = \"x\"\n",
            4,
            "holidays",
            "published = false",
        ),
        (
            // Wed 30 Sep 2026 is already a working day.
            "year = 2026\npublished = true\nsource = \"s\"\n[[holidays]]\nname = \"x\"\nmake_up_workdays = [\"2026-09-30\"]\n",
            6,
            "holidays[0].make_up_workdays[0]",
            "already a working day",
        ),
        (
            "year = 2026\npublished = true\nsource = \"s\"\n[[holidays]]\nname = \"x\"\ndays_off = [\"2026-10-01\", \"2026-10-01\"]\n",
            6,
            "holidays[0].days_off[1]",
            "listed twice",
        ),
    ];
    for (text, line, key, fragment) in cases {
        let e = err(&[("t.toml", text)]);
        assert_eq!((e.line, e.key.as_str()), (*line, *key), "{text:?}: {e}");
        assert!(e.message.contains(fragment), "{text:?}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("t.toml:{line}: {key}: ")),
            "{e}"
        );
    }
}

#[test]
fn a_year_loaded_twice_or_misnamed_is_an_error() {
    let a = "# comment\nyear = 2026\npublished = false\nsource = \"s\"\n";
    let e = err(&[("a.toml", a), ("b.toml", a)]);
    assert_eq!(
        (e.file.as_str(), e.line, e.key.as_str()),
        ("b.toml", 2, "year")
    );
    assert!(e.message.contains("already loaded from a.toml"), "{e}");
    let e = err(&[("config/calendar/2025.toml", a)]);
    assert!(e.message.contains("named for 2025"), "{e}");
}

#[test]
fn an_unreadable_directory_is_an_error_at_line_0() {
    let e = Calendar::from_dir("/nonexistent/calendar").unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.file.contains("/nonexistent/calendar"));
}

#[test]
fn from_dir_reads_only_toml_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2026.toml"),
        format!("{HEAD_2026}[[holidays]]\nname = \"x\"\ndays_off = [\"2026-03-02\"]\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "not a year").unwrap();
    let cal = Calendar::from_dir(dir.path()).unwrap();
    assert!(!cal.is_working_day(d(2026, 3, 2)));
    std::fs::write(
        dir.path().join("2025.toml"),
        "year = 2025\npublished = maybe\n",
    )
    .unwrap();
    let e = Calendar::from_dir(dir.path()).unwrap_err();
    assert!(e.file.ends_with("2025.toml") && e.line == 2, "{e}");
}
