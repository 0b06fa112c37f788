//! Behaviour of the search index through its public API: Chinese matching, scopes, writes, reopening,
//! paging and ordering.

use std::error::Error;

use fengqiao_search::{SearchDoc, SearchError, SearchIndex, SearchScope};

type TestResult = Result<(), Box<dyn Error>>;

/// Town A (370883107) and town B (370883108) of one county; a village of town A.
const TOWN_A: &str = "/37/3708/370883/370883107/";
const TOWN_B: &str = "/37/3708/370883/370883108/";
const VILLAGE_A: &str = "/37/3708/370883/370883107/370883107001/370883107001001/";
const COUNTY_CENTER: &str = "/37/3708/370883/";

fn case(id: i64, path: &str, title: &str, description: &str, created_at: i64) -> SearchDoc {
    SearchDoc {
        id,
        number: format!("FQ-2025-{id:06}"),
        title: title.to_owned(),
        description: description.to_owned(),
        notes: Vec::new(),
        path: path.to_owned(),
        owner_path: path.to_owned(),
        units: Vec::new(),
        status: "submitted".to_owned(),
        kind: "complaint".to_owned(),
        category: None,
        created_at,
    }
}

fn everything() -> SearchScope {
    scope_of(&["/"])
}

fn scope_of(prefixes: &[&str]) -> SearchScope {
    SearchScope {
        path_prefixes: prefixes.iter().map(|prefix| (*prefix).to_owned()).collect(),
        units: Vec::new(),
    }
}

fn ids(index: &SearchIndex, text: &str, scope: &SearchScope) -> Result<Vec<i64>, SearchError> {
    let mut ids = index.search(text, scope, 0, 100, false)?.ids;
    ids.sort_unstable();
    Ok(ids)
}

fn sample_index() -> Result<SearchIndex, SearchError> {
    let index = SearchIndex::in_memory()?;
    index.upsert(&[
        case(1, VILLAGE_A, "群众来电", "楼上邻居夜间装修噪音很大", 100),
        case(2, VILLAGE_A, "群众来电", "巷口自来水管漏水严重", 200),
        case(3, TOWN_A, "群众来电", "小区路灯不亮已经一周", 300),
        case(4, TOWN_B, "群众来电", "村民私搭违章建筑占用道路", 400),
        case(5, TOWN_B, "群众来电", "商贩占道经营影响通行", 500),
        case(6, TOWN_B, "群众来电", "广场舞音响噪音过大", 600),
    ])?;
    Ok(index)
}

#[test]
fn two_character_words_are_found_inside_longer_text() -> TestResult {
    let index = sample_index()?;
    assert_eq!(ids(&index, "噪音", &everything())?, [1, 6]);
    assert_eq!(ids(&index, "漏水", &everything())?, [2]);
    assert_eq!(ids(&index, "水管", &everything())?, [2]);
    // jieba segments 小区 / 路 / 灯不亮 here; the word is still found.
    assert_eq!(ids(&index, "路灯", &everything())?, [3]);
    assert_eq!(ids(&index, "装修", &everything())?, [1]);
    Ok(())
}

#[test]
fn four_character_words_are_found_whole_or_split() -> TestResult {
    let index = sample_index()?;
    // A dictionary word, and one jieba splits (占 / 道 / 经营).
    assert_eq!(ids(&index, "违章建筑", &everything())?, [4]);
    assert_eq!(ids(&index, "占道经营", &everything())?, [5]);
    assert_eq!(ids(&index, "路灯不亮", &everything())?, [3]);
    // Words must be adjacent inside one part: "经营占道" is not in any text.
    assert!(ids(&index, "经营占道", &everything())?.is_empty());
    Ok(())
}

#[test]
fn every_word_of_the_query_is_required() -> TestResult {
    let index = sample_index()?;
    assert_eq!(ids(&index, "装修噪音", &everything())?, [1]);
    assert_eq!(ids(&index, "噪音 邻居", &everything())?, [1]);
    assert!(ids(&index, "噪音 漏水", &everything())?.is_empty());
    // A lone function character does not count as a word.
    assert_eq!(ids(&index, "邻居的噪音", &everything())?, [1]);
    Ok(())
}

#[test]
fn notes_and_titles_are_searched_too() -> TestResult {
    let index = SearchIndex::in_memory()?;
    let mut with_note = case(1, TOWN_A, "反映问题", "见附件", 1);
    with_note.notes = vec!["现场核实：井盖缺失，已通知市政维修".to_owned()];
    index.upsert(&[with_note, case(2, TOWN_A, "井盖缺失", "", 2)])?;
    assert_eq!(ids(&index, "井盖", &everything())?, [1, 2]);
    assert_eq!(ids(&index, "市政维修", &everything())?, [1]);
    Ok(())
}

#[test]
fn a_case_number_finds_its_case() -> TestResult {
    let index = sample_index()?;
    assert_eq!(ids(&index, " FQ-2025-000004 ", &everything())?, [4]);
    Ok(())
}

#[test]
fn a_town_scope_sees_its_cases_and_never_another_towns() -> TestResult {
    let index = sample_index()?;
    assert_eq!(ids(&index, "噪音", &scope_of(&[TOWN_A]))?, [1]);
    assert_eq!(ids(&index, "噪音", &scope_of(&[TOWN_B]))?, [6]);
    // Without the final '/', the same region.
    assert_eq!(
        ids(&index, "噪音", &scope_of(&["/37/3708/370883/370883108"]))?,
        [6]
    );
    // Prefixes are whole segments: "/37/3708/37088" is no region's path.
    assert!(ids(&index, "噪音", &scope_of(&["/37/3708/37088"]))?.is_empty());
    assert_eq!(ids(&index, "噪音", &scope_of(&[TOWN_A, TOWN_B]))?, [1, 6]);
    assert_eq!(ids(&index, "噪音", &scope_of(&[COUNTY_CENTER]))?, [1, 6]);
    Ok(())
}

#[test]
fn an_empty_scope_sees_nothing() -> TestResult {
    let index = sample_index()?;
    let hits = index.search("噪音", &SearchScope::default(), 0, 10, false)?;
    assert_eq!((hits.ids.len(), hits.total), (0, 0));
    assert!(ids(&index, "噪音", &scope_of(&["", " "]))?.is_empty());
    Ok(())
}

#[test]
fn a_unit_scope_sees_the_cases_with_that_unit() -> TestResult {
    let index = SearchIndex::in_memory()?;
    let mut with_department = case(1, TOWN_B, "噪音", "施工噪音", 1);
    with_department.units = vec!["dept:12".to_owned()];
    let mut with_grid = case(2, TOWN_B, "噪音", "夜市噪音", 2);
    with_grid.units = vec!["grid:370883108001001".to_owned(), "dept:13".to_owned()];
    index.upsert(&[
        with_department,
        with_grid,
        case(3, TOWN_A, "噪音", "狗叫噪音", 3),
    ])?;

    let department_12 = SearchScope {
        path_prefixes: Vec::new(),
        units: vec!["dept:12".to_owned()],
    };
    assert_eq!(ids(&index, "噪音", &department_12)?, [1]);
    let grid = SearchScope {
        path_prefixes: Vec::new(),
        units: vec!["grid:370883108001001".to_owned()],
    };
    assert_eq!(ids(&index, "噪音", &grid)?, [2]);
    // A unit and a region together: either is enough.
    let town_a_or_department_13 = SearchScope {
        path_prefixes: vec![TOWN_A.to_owned()],
        units: vec!["dept:13".to_owned()],
    };
    assert_eq!(ids(&index, "噪音", &town_a_or_department_13)?, [2, 3]);
    Ok(())
}

#[test]
fn the_owner_path_grants_visibility_too() -> TestResult {
    let index = SearchIndex::in_memory()?;
    // A case in town B, escalated to the county center, and one owned by town A's center.
    let mut escalated = case(1, VILLAGE_A, "噪音", "工地噪音", 1);
    escalated.owner_path = COUNTY_CENTER.to_owned();
    let mut transferred = case(2, TOWN_B, "噪音", "酒吧噪音", 2);
    transferred.owner_path = TOWN_A.to_owned();
    index.upsert(&[escalated, transferred])?;
    assert_eq!(ids(&index, "噪音", &scope_of(&[TOWN_A]))?, [1, 2]);
    assert_eq!(ids(&index, "噪音", &scope_of(&[TOWN_B]))?, [2]);
    assert_eq!(
        ids(&index, "噪音", &scope_of(&["/37/3708/370883/370883109/"]))?,
        Vec::<i64>::new()
    );
    Ok(())
}

#[test]
fn upsert_replaces_a_document() -> TestResult {
    let index = sample_index()?;
    index.upsert(&[case(1, VILLAGE_A, "已更正", "实为楼下餐馆油烟扰民", 100)])?;
    assert_eq!(ids(&index, "噪音", &everything())?, [6]);
    assert_eq!(ids(&index, "油烟", &everything())?, [1]);
    assert_eq!(index.len()?, 6);
    // Within one call, the last document with an id wins.
    index.upsert(&[
        case(7, TOWN_A, "第一版", "积水", 700),
        case(7, TOWN_A, "第二版", "结冰", 700),
    ])?;
    assert!(ids(&index, "积水", &everything())?.is_empty());
    assert_eq!(ids(&index, "结冰", &everything())?, [7]);
    assert_eq!(index.len()?, 7);
    Ok(())
}

#[test]
fn delete_and_clear_remove_documents() -> TestResult {
    let index = sample_index()?;
    index.delete(&[6, 999])?;
    assert_eq!(ids(&index, "噪音", &everything())?, [1]);
    assert_eq!(index.len()?, 5);
    index.clear()?;
    assert_eq!(index.len()?, 0);
    assert!(index.is_empty()?);
    assert!(ids(&index, "噪音", &everything())?.is_empty());
    Ok(())
}

#[test]
fn reopening_a_directory_keeps_the_documents() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("search");
    {
        let index = SearchIndex::open(&path)?;
        index.upsert(&[case(1, TOWN_A, "路灯", "小区路灯不亮", 1)])?;
        // The directory is locked for writing while the index is open.
        assert!(matches!(
            SearchIndex::open(&path),
            Err(SearchError::Locked { .. })
        ));
    }
    let index = SearchIndex::open(&path)?;
    assert_eq!(index.len()?, 1);
    assert_eq!(ids(&index, "路灯", &everything())?, [1]);
    index.upsert(&[case(2, TOWN_A, "路灯", "路灯杆倾斜", 2)])?;
    assert_eq!(ids(&index, "路灯", &everything())?, [1, 2]);
    Ok(())
}

#[test]
fn an_index_with_another_schema_must_be_rebuilt() -> TestResult {
    let directory = tempfile::tempdir()?;
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("title", tantivy::schema::TEXT);
    drop(tantivy::Index::create_in_dir(
        directory.path(),
        builder.build(),
    )?);
    let opened = SearchIndex::open(directory.path());
    assert!(
        matches!(opened, Err(SearchError::SchemaMismatch { .. })),
        "{opened:?}"
    );
    Ok(())
}

#[test]
fn query_syntax_characters_are_harmless() -> TestResult {
    let index = sample_index()?;
    for text in [
        "title:噪音",
        "\"噪音",
        "噪音)",
        "(噪音 OR 漏水)",
        "噪音 AND NOT 漏水",
        "噪音^10",
        "噪音~2",
        "*噪音*",
        "id:[1 TO 9]",
        "噪音 -扰民 +装修",
        "\\噪音\\",
        "噪音' OR '1'='1",
    ] {
        let result = index.search(text, &everything(), 0, 10, false);
        assert!(result.is_ok(), "{text}: {result:?}");
    }
    // The words are searched as words, never as operators: nothing has "or", "title" or "not" in it.
    assert!(ids(&index, "(噪音 OR 漏水)", &everything())?.is_empty());
    assert!(ids(&index, "title:噪音", &everything())?.is_empty());
    assert_eq!(ids(&index, "\"噪音\"", &everything())?, [1, 6]);
    assert_eq!(ids(&index, "噪音^", &everything())?, [1, 6]);
    Ok(())
}

#[test]
fn empty_and_punctuation_only_queries_are_an_error() -> TestResult {
    let index = sample_index()?;
    for text in ["", "   ", "\u{3000}\t\n", "，。！？", "()\":*^~", "——……"] {
        let result = index.search(text, &everything(), 0, 10, false);
        assert!(
            matches!(result, Err(SearchError::EmptyQuery)),
            "{text:?}: {result:?}"
        );
    }
    let too_long = "噪".repeat(fengqiao_search::MAX_QUERY_CHARS + 1);
    assert!(matches!(
        index.search(&too_long, &everything(), 0, 10, false),
        Err(SearchError::QueryTooLong { .. })
    ));
    Ok(())
}

#[test]
fn results_are_newest_first_and_paged_with_the_total() -> TestResult {
    let index = SearchIndex::in_memory()?;
    // Created out of order; ids 3 and 4 at the same second (the larger id comes first).
    let times = [
        (1, 50),
        (2, 10),
        (3, 40),
        (4, 40),
        (5, 30),
        (6, 20),
        (7, 60),
    ];
    let docs: Vec<SearchDoc> = times
        .iter()
        .map(|&(id, created_at)| case(id, TOWN_A, "噪音", "夜间噪音", created_at))
        .collect();
    // Two commits, so that results come from more than one segment.
    index.upsert(&docs[..3])?;
    index.upsert(&docs[3..])?;
    index.upsert(&[case(8, TOWN_A, "漏水", "漏水", 70)])?;

    let first = index.search("噪音", &everything(), 0, 3, false)?;
    assert_eq!((first.ids, first.total), (vec![7, 1, 4], 7));
    let second = index.search("噪音", &everything(), 3, 3, false)?;
    assert_eq!((second.ids, second.total), (vec![3, 5, 6], 7));
    let last = index.search("噪音", &everything(), 6, 3, false)?;
    assert_eq!((last.ids, last.total), (vec![2], 7));
    let past_the_end = index.search("噪音", &everything(), 1_000_000, 3, false)?;
    assert_eq!((past_the_end.ids, past_the_end.total), (vec![], 7));
    let count_only = index.search("噪音", &everything(), 0, 0, false)?;
    assert_eq!((count_only.ids, count_only.total), (vec![], 7));
    let huge_page = index.search("噪音", &everything(), usize::MAX, usize::MAX, false)?;
    assert_eq!((huge_page.ids, huge_page.total), (vec![], 7));
    Ok(())
}

#[test]
fn relevance_puts_the_best_match_first() -> TestResult {
    let index = SearchIndex::in_memory()?;
    index.upsert(&[
        case(1, TOWN_A, "反映", "楼道堆放杂物，另有噪音", 3),
        case(2, TOWN_A, "噪音", "噪音噪音，夜间施工噪音", 1),
        case(
            3,
            TOWN_A,
            "反映",
            "门口有噪音，也有油烟和垃圾问题，还有停车难",
            2,
        ),
    ])?;
    let hits = index.search("噪音", &everything(), 0, 10, true)?;
    assert_eq!(hits.total, 3);
    assert_eq!(hits.ids.first(), Some(&2));
    let newest = index.search("噪音", &everything(), 0, 10, false)?;
    assert_eq!(newest.ids, [1, 3, 2]);
    Ok(())
}

#[test]
fn rare_characters_and_latin_text_are_searchable() -> TestResult {
    let index = SearchIndex::in_memory()?;
    index.upsert(&[
        case(1, TOWN_A, "来电", "王犇反映3号楼WiFi信号差", 1),
        case(2, TOWN_A, "来电", "13号楼电梯停运", 2),
    ])?;
    assert_eq!(ids(&index, "犇", &everything())?, [1]);
    assert_eq!(ids(&index, "wifi", &everything())?, [1]);
    assert_eq!(ids(&index, "ＷＩＦＩ", &everything())?, [1]);
    assert_eq!(ids(&index, "3号楼", &everything())?, [1]);
    assert_eq!(ids(&index, "13号楼", &everything())?, [2]);
    Ok(())
}
