//! Search quality and behaviour over a small, realistic 12345 knowledge base.

use std::time::Instant;

use hotline_kb::{KbIndex, KbItem, MAX_LIMIT};

fn item(id: i64, q: &str, a: &str, cat: &str, kw: &[&str]) -> KbItem {
    KbItem {
        id,
        question: q.into(),
        answer: a.into(),
        category: Some(cat.into()),
        keywords: kw.iter().map(|s| s.to_string()).collect(),
    }
}

const SOCIAL_CARD: i64 = 1;
const HOUSING_FUND: i64 = 2;
const STREETLIGHT: i64 = 3;
const NOISE: i64 = 4;
const RESIDENCE: i64 = 5;
const GAS: i64 = 6;
const WATER_OUT: i64 = 7;
const MEDICAL: i64 = 8;
const PASSPORT: i64 = 9;
const PARKING: i64 = 10;
const WAGES: i64 = 11;
const HUKOU: i64 = 12;
const ELDER: i64 = 13;
const TAXI: i64 = 14;
const HEATING: i64 = 15;
const ENGLISH: i64 = 16;

fn kb() -> KbIndex {
    let mut idx = KbIndex::new();
    for it in [
        item(SOCIAL_CARD, "社保卡丢失了如何补办？",
            "携带身份证到就近的社保经办网点或合作银行网点办理挂失和补办，也可在“掌上社保”App办理，补卡工本费按规定收取，一般10个工作日内制卡完成。",
            "人社", &["社保卡", "补办", "挂失", "补卡", "社会保障卡"]),
        item(HOUSING_FUND, "住房公积金怎么提取？",
            "购房、租房、离职、退休等情形可申请提取住房公积金。租房提取可通过公积金中心网站或App线上办理，需提供租房合同或无房证明。",
            "住房公积金", &["公积金", "提取", "租房提取", "取公积金"]),
        item(STREETLIGHT, "小区门口路灯坏了不亮，找谁报修？",
            "市政道路路灯由城市管理部门负责维修，请告知路灯所在道路名称、附近门牌号或灯杆编号，工单将转派至路灯管理所，一般3个工作日内修复。小区内部路灯由物业负责。",
            "市政设施", &["路灯", "报修", "不亮", "灯杆"]),
        item(NOISE, "晚上施工噪音扰民怎么投诉？",
            "夜间22时至次日6时禁止产生噪声的建筑施工作业（抢修、抢险除外）。请提供施工地点和时间，工单将转至生态环境部门或城管执法部门核查处理。",
            "生态环境", &["噪音", "噪声", "扰民", "夜间施工", "投诉"]),
        item(RESIDENCE, "外地人怎么办理居住证？",
            "在本市居住满半年并有合法稳定就业、住所或连续就读之一的，可持身份证、居住登记凭证到居住地派出所或社区警务室申领居住证。",
            "公安", &["居住证", "暂住证", "居住登记", "外来人口"]),
        item(GAS, "家里燃气漏气或燃气灶打不着火，怎么报修？",
            "闻到燃气味请立即关闭燃气总阀、开窗通风，不要开关电器，到室外拨打燃气公司24小时抢修电话。燃气灶具故障可预约燃气公司上门维修。",
            "公用事业", &["燃气", "煤气", "天然气", "漏气", "报修"]),
        item(WATER_OUT, "家里突然停水了，什么时候恢复供水？",
            "计划停水会提前24小时公告。突发停水请提供详细地址，工单将转至供水公司核实管网抢修情况并告知预计恢复供水时间。",
            "公用事业", &["停水", "供水", "没水", "水压低"]),
        item(MEDICAL, "医保异地就医如何备案和报销？",
            "异地长期居住或临时外出就医的参保人，可通过国家医保服务平台App或当地医保经办机构办理异地就医备案，备案后在定点医院就医可直接结算。",
            "医疗保障", &["医保", "异地就医", "备案", "报销", "直接结算"]),
        item(PASSPORT, "护照过期了怎么换发？",
            "可到任一出入境管理部门窗口申请换发护照，需携带身份证和原护照，现场采集照片和指纹，一般7个工作日出证。",
            "公安", &["护照", "换发", "出入境"]),
        item(PARKING, "车辆违停堵住小区出入口怎么办？",
            "请提供车牌号和具体位置，工单将转至交警部门处理；紧急情况可直接拨打110。",
            "交通", &["违停", "乱停车", "堵路", "挪车"]),
        item(WAGES, "公司拖欠工资怎么投诉？",
            "可向用人单位所在地劳动保障监察机构投诉，需提供劳动合同、工资条、考勤记录等证据；也可申请劳动仲裁。",
            "人社", &["欠薪", "拖欠工资", "讨薪", "劳动仲裁"]),
        item(HUKOU, "新生儿怎么上户口？",
            "新生儿出生一个月内，由监护人持出生医学证明、父母户口簿和身份证、结婚证到户籍所在地派出所办理出生登记。",
            "公安", &["户口", "落户", "出生登记", "新生儿"]),
        item(ELDER, "80岁以上老人高龄津贴怎么申请？",
            "本市户籍80周岁以上老年人可向户籍所在地社区居委会申请高龄津贴，需提供身份证、户口簿和银行卡。",
            "民政", &["高龄津贴", "老人补贴", "养老"]),
        item(TAXI, "出租车拒载、绕路怎么投诉？",
            "请提供车牌号、乘车时间和上下车地点，工单将转至交通运输执法部门调查处理，一般15个工作日内答复。",
            "交通", &["出租车", "拒载", "绕路", "打车"]),
        item(HEATING, "冬季暖气不热怎么反映？",
            "供暖期内室温低于18℃可报修，请提供小区名称和房号，工单将转至供热公司上门测温并处理。",
            "公用事业", &["暖气", "供暖", "不热", "供热"]),
        item(ENGLISH, "How can foreigners apply for a work permit?",
            "Foreign nationals apply for a Work Permit online through the Foreigners' Work Management Service System, then obtain a residence permit at the exit-entry bureau.",
            "外国人服务", &["work permit", "foreigner", "工作许可"]),
    ] {
        idx.upsert(it);
    }
    idx
}

fn top(idx: &KbIndex, q: &str) -> Option<i64> {
    idx.search(q, 5).first().map(|h| h.id)
}

fn rank(idx: &KbIndex, q: &str, id: i64) -> Option<usize> {
    idx.search(q, MAX_LIMIT).iter().position(|h| h.id == id)
}

#[test]
fn natural_phrasings_find_the_right_item() {
    let idx = kb();
    let cases: &[(&str, i64)] = &[
        ("路灯不亮怎么办", STREETLIGHT),
        ("我家楼下的路灯坏了", STREETLIGHT),
        ("社保卡补办", SOCIAL_CARD),
        ("社保卡丢了", SOCIAL_CARD),
        ("我的社会保障卡找不到了怎么挂失", SOCIAL_CARD),
        ("公积金 提取", HOUSING_FUND),
        ("租房可以取公积金吗", HOUSING_FUND),
        ("工地半夜施工太吵了", NOISE),
        ("楼下噪音很大", NOISE),
        ("办居住证需要什么材料", RESIDENCE),
        ("煤气漏气", GAS),
        ("燃气灶打不着火", GAS),
        ("停水了什么时候来水", WATER_OUT),
        ("家里没水了", WATER_OUT),
        ("在外地看病医保能报销吗", MEDICAL),
        ("异地就医备案", MEDICAL),
        ("护照到期换新", PASSPORT),
        ("门口被乱停的车堵住了", PARKING),
        ("老板不发工资", WAGES),
        ("孩子刚出生怎么落户", HUKOU),
        ("高龄津贴", ELDER),
        ("打车司机绕路", TAXI),
        ("暖气不热", HEATING),
        ("work permit for foreigners", ENGLISH),
        ("Work Permit", ENGLISH),
        // Full-width Latin and Chinese punctuation are normalised away.
        ("ＷＯＲＫ　ＰＥＲＭＩＴ？", ENGLISH),
        ("“社保卡”补办！！", SOCIAL_CARD),
    ];
    let mut failures = Vec::new();
    for &(q, want) in cases {
        let got = top(&idx, q);
        if got != Some(want) {
            failures.push(format!(
                "{q:?}: want {want}, got {got:?} ({:?})",
                idx.search(q, 3)
            ));
        }
    }
    assert!(failures.is_empty(), "misranked:\n{}", failures.join("\n"));
}

#[test]
fn unrelated_queries_rank_item_low() {
    let idx = kb();
    // The social-security-card item has nothing to do with these.
    for q in ["路灯不亮怎么办", "燃气漏气", "出租车绕路", "work permit"] {
        let r = rank(&idx, q, SOCIAL_CARD);
        assert!(r.is_none_or(|r| r >= 3), "{q:?}: social card ranked {r:?}");
    }
    // Nothing in the base is about this at all: no hit should be strong.
    let weather = idx.search("明天天气预报", 5);
    let street = idx.search("路灯不亮", 1);
    assert!(
        weather.iter().all(|h| h.score < street[0].score / 3.0),
        "{weather:?}"
    );
}

#[test]
fn empty_and_junk_queries_give_no_hits() {
    let idx = kb();
    for q in ["", "   ", "？！。，、", "\u{3000}", "怎么办", "请问"] {
        assert!(
            idx.search(q, 10).is_empty(),
            "{q:?} -> {:?}",
            idx.search(q, 10)
        );
    }
    assert!(idx.search("路灯", 0).is_empty());
    assert!(KbIndex::new().search("路灯", 10).is_empty());
}

#[test]
fn very_long_query_is_capped_and_still_works() {
    let idx = kb();
    let long = format!("路灯不亮{}", "啊".repeat(100_000));
    let t = Instant::now();
    assert_eq!(top(&idx, &long), Some(STREETLIGHT));
    assert!(t.elapsed().as_secs_f64() < 1.0);
    // Mixed garbage must not panic (multi-byte boundaries, odd scripts, emoji).
    let junk: String = "路😀灯ÀİßΩ١٢٣\u{0}\u{FFFF}".repeat(5_000);
    let _ = idx.search(&junk, 10);
}

#[test]
fn limit_is_capped() {
    let idx = kb();
    assert!(idx.search("怎么投诉", usize::MAX).len() <= MAX_LIMIT);
    assert!(idx.search("投诉", 2).len() <= 2);
}

#[test]
fn highlights_mark_matched_question_text() {
    let idx = kb();
    let hits = idx.search("路灯不亮", 1);
    let q = &idx.get(STREETLIGHT).unwrap().question;
    let marked: Vec<&str> = hits[0].highlights.iter().map(|&(s, e)| &q[s..e]).collect();
    assert!(marked.contains(&"路灯"), "{marked:?}");
    assert!(marked.contains(&"不亮"), "{marked:?}");
    // The hit serialises for the API.
    let json = serde_json::to_value(&hits[0]).unwrap();
    assert_eq!(json["id"], STREETLIGHT);
}

#[test]
fn update_and_remove() {
    let mut idx = kb();
    let n = idx.len();
    assert_eq!(top(&idx, "社保卡补办"), Some(SOCIAL_CARD));

    // Re-word the item into something else entirely: old words stop finding it, new ones do.
    let mut it = idx.get(SOCIAL_CARD).unwrap().clone();
    it.question = "电动自行车上牌在哪里办？".into();
    it.answer = "携带购车发票和合格证到车管所办理电动自行车登记上牌。".into();
    it.keywords = vec!["电动车".into(), "上牌".into()];
    assert!(idx.upsert(it).is_some());
    assert_eq!(idx.len(), n);
    assert_eq!(top(&idx, "电动车上牌"), Some(SOCIAL_CARD));
    assert_ne!(top(&idx, "社保卡补办"), Some(SOCIAL_CARD));

    assert!(idx.remove(SOCIAL_CARD).is_some());
    assert!(idx.remove(SOCIAL_CARD).is_none());
    assert_eq!(idx.len(), n - 1);
    assert!(idx
        .search("电动车上牌", 10)
        .iter()
        .all(|h| h.id != SOCIAL_CARD));
    assert!(idx.get(SOCIAL_CARD).is_none());

    // Removing everything leaves a clean, empty index.
    for id in 1..=16 {
        idx.remove(id);
    }
    assert!(idx.is_empty());
    assert!(idx.search("路灯", 10).is_empty());
}

#[test]
fn ten_thousand_items_index_and_search_fast() {
    let topics = [
        "社保",
        "公积金",
        "路灯",
        "噪音",
        "居住证",
        "燃气",
        "停水",
        "医保",
        "护照",
        "暖气",
    ];
    let verbs = [
        "办理", "提取", "报修", "投诉", "补办", "查询", "咨询", "申请",
    ];
    let places = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区"];
    let mut idx = KbIndex::new();
    let t = Instant::now();
    for i in 0..10_000i64 {
        let u = i as usize;
        let topic = topics[u % topics.len()];
        let verb = verbs[(u / 10) % verbs.len()];
        let place = places[(u / 80) % places.len()];
        idx.upsert(KbItem {
            id: i,
            question: format!("{place}{topic}{verb}问题第{i}号"),
            answer: format!("关于{place}{topic}{verb}的答复：请携带身份证到{place}政务服务中心窗口办理，编号{i}。"),
            category: Some(topic.into()),
            keywords: vec![topic.into(), verb.into(), format!("k{i}")],
        });
    }
    let indexed = t.elapsed();
    let t = Instant::now();
    let hits = idx.search("海淀区路灯报修", 10);
    let searched = t.elapsed();
    eprintln!("indexed 10 000 items in {indexed:?}, searched in {searched:?}");
    assert_eq!(hits.len(), 10);
    let first = idx.get(hits[0].id).unwrap();
    assert!(
        first.question.contains("海淀区路灯报修"),
        "{}",
        first.question
    );
    assert!((indexed + searched).as_secs_f64() < 2.0);
    // A unique keyword finds exactly its item.
    assert_eq!(idx.search("k4242", 3).first().map(|h| h.id), Some(4242));
}
