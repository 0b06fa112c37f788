//! Chinese full-text search: builds an on-disk `fengqiao_search::SearchIndex` over synthetic cases and
//! times county-scoped searches.
//!
//! The workload matches the peer figure in shared/LIMITS.md ("Reading"): cases of about 200 characters of
//! complaint-style Chinese, spread evenly over 20 counties × 10 towns × 5 villages, so a county scope covers
//! 1/20 of them. Each timed search asks for the newest 20 hits and the total count in one county, rotating
//! over the counties, for
//! - a two-character word, 噪音 (in about one case in nine),
//! - a four-character dictionary word, 违章建筑 (about one in fourteen; matched as one term),
//! - a four-character word jieba splits, 占道经营 (about one in thirty; matched as the phrase 占道 + 经营).
//!
//! Then it times single-case upserts (each commits and reloads the reader, as the application's writes do).
//!
//! Everything is seeded, so runs are comparable. The build time covers indexing, the commits and waiting for
//! the background merges; generating the text is not counted.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use fengqiao_search::{SearchDoc, SearchIndex, SearchScope};

const COUNTIES: usize = 20;
const TOWNS_PER_COUNTY: usize = 10;
const VILLAGES_PER_TOWN: usize = 5;
/// Cases per `upsert` call (one commit each) while building.
const BATCH: usize = 50_000;
/// Untimed searches per word before timing (the first ones fault the index's pages in).
const WARM_UP_QUERIES: usize = 20;
/// Results per page.
const PAGE: usize = 20;
/// Single-case upserts timed after the searches (each one commits and reloads, as the application's
/// writes will).
const SINGLE_UPSERTS: usize = 100;

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// Cases indexed.
    pub docs: usize,
    /// Timed searches per word.
    pub queries: usize,
    /// Seconds to index every case, commit and finish merging.
    pub build_secs: f64,
    /// Size of the index directory on disk, in bytes.
    pub index_bytes: u64,
    /// 噪音, county scope, newest 20 + total: median and 99th percentile, in milliseconds.
    pub two_char_p50_ms: f64,
    pub two_char_p99_ms: f64,
    /// Mean total count of the 噪音 searches.
    pub two_char_mean_total: f64,
    /// 违章建筑 (a dictionary word: one term), same shape.
    pub four_char_p50_ms: f64,
    pub four_char_p99_ms: f64,
    pub four_char_mean_total: f64,
    /// 占道经营 (jieba splits it: a phrase), same shape.
    pub phrase_p50_ms: f64,
    pub phrase_p99_ms: f64,
    pub phrase_mean_total: f64,
    /// Upserting one case (commit and reload included): median and 99th percentile, in milliseconds.
    pub single_upsert_p50_ms: f64,
    pub single_upsert_p99_ms: f64,
}

/// Builds the index over `docs` synthetic cases in a temporary directory and times `queries` searches per
/// word. Panics if the index fails: a benchmark has nothing to fall back on.
pub fn run(docs: usize, queries: usize) -> SearchReport {
    let directory = tempfile::tempdir().expect("a temporary directory for the index");
    let index = SearchIndex::open(directory.path()).expect("a new index opens");

    let mut generator = CaseGenerator::new();
    let mut build = Duration::ZERO;
    let mut next_id = 0;
    while next_id < docs {
        let batch: Vec<SearchDoc> = (next_id..docs.min(next_id + BATCH))
            .map(|id| generator.case(id))
            .collect();
        next_id += batch.len();
        let started = Instant::now();
        index.upsert(&batch).expect("indexing succeeds");
        build += started.elapsed();
    }
    let started = Instant::now();
    index.wait_for_merges().expect("merging succeeds");
    build += started.elapsed();
    assert_eq!(
        index.len().expect("the index counts"),
        docs as u64,
        "every case is indexed"
    );

    let two = time_word(&index, "噪音", queries);
    let four = time_word(&index, "违章建筑", queries);
    let phrase = time_word(&index, "占道经营", queries);
    let mut upserts = Vec::with_capacity(SINGLE_UPSERTS);
    for id in 0..SINGLE_UPSERTS {
        // Replaces an existing case with a new text.
        let case = generator.case(id * 7919 % docs.max(1));
        let started = Instant::now();
        index.upsert(&[case]).expect("an upsert succeeds");
        upserts.push(started.elapsed());
    }
    upserts.sort_unstable();
    SearchReport {
        docs,
        queries,
        build_secs: build.as_secs_f64(),
        index_bytes: directory_bytes(directory.path()),
        two_char_p50_ms: two.p50_ms,
        two_char_p99_ms: two.p99_ms,
        two_char_mean_total: two.mean_total,
        four_char_p50_ms: four.p50_ms,
        four_char_p99_ms: four.p99_ms,
        four_char_mean_total: four.mean_total,
        phrase_p50_ms: phrase.p50_ms,
        phrase_p99_ms: phrase.p99_ms,
        phrase_mean_total: phrase.mean_total,
        single_upsert_p50_ms: percentile_ms(&upserts, 0.50),
        single_upsert_p99_ms: percentile_ms(&upserts, 0.99),
    }
}

/// Latency percentiles and the mean total of one word's searches.
struct WordTimes {
    p50_ms: f64,
    p99_ms: f64,
    mean_total: f64,
}

fn time_word(index: &SearchIndex, word: &str, queries: usize) -> WordTimes {
    let search = |query: usize| {
        let scope = SearchScope {
            path_prefixes: vec![county_path(query % COUNTIES)],
            units: Vec::new(),
        };
        index
            .search(word, &scope, 0, PAGE, false)
            .expect("the search succeeds")
    };
    for query in 0..WARM_UP_QUERIES {
        black_box(search(query));
    }
    let mut latencies = Vec::with_capacity(queries);
    let mut totals = 0usize;
    for query in 0..queries {
        let started = Instant::now();
        let hits = black_box(search(query));
        latencies.push(started.elapsed());
        totals += hits.total;
    }
    latencies.sort_unstable();
    WordTimes {
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        mean_total: totals as f64 / queries.max(1) as f64,
    }
}

/// The `fraction` percentile (nearest rank) of sorted latencies, in milliseconds.
fn percentile_ms(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// Bytes of the files in a directory (the index keeps no subdirectories).
fn directory_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.metadata().ok())
                .filter(|metadata| metadata.is_file())
                .map(|metadata| metadata.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Region path of a county: "/37/3708/370801/".
fn county_path(county: usize) -> String {
    format!("/37/3708/3708{:02}/", county + 1)
}

/// A splitmix64 sequence: deterministic and dependency-free.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const OPENERS: &[&str] = &[
    "群众来电反映：",
    "居民通过12345热线反映，",
    "网格员巡查发现，",
    "村民到便民服务中心反映，",
    "市民在网上留言称，",
    "人大代表转来群众意见，",
];

const PLACES: &[&str] = &[
    "幸福小区3号楼",
    "建设路与人民路交叉口",
    "农贸市场西侧",
    "东关村村委会旁",
    "实验小学门口",
    "滨河公园南侧",
    "老旧小区12栋",
    "汽车站对面",
    "工业园区东门",
    "李家庄村南头",
    "胜利路中段",
    "县医院北门",
    "金色家园小区地下车库",
    "南湖花园二期",
    "育才路菜市场",
    "城南商业街",
];

const SINCE: &[&str] = &[
    "该问题已持续一个多月，",
    "近一周以来，",
    "从上个月开始，",
    "今年入冬以来，",
    "最近几天，",
    "多次向有关部门反映未果，",
];

/// Problems by kind; the kind's weight (in percent of cases) decides how often it is a case's main problem.
const PROBLEMS: &[(usize, &[&str])] = &[
    (
        9,
        &[
            "楼上邻居夜间装修噪音很大，影响休息",
            "附近工地夜间施工噪音扰民",
            "广场舞音响声音过大，噪音持续到晚上十点",
            "烧烤摊深夜经营，噪音和油烟扰民",
            "商铺门口用大喇叭促销，噪音刺耳",
        ],
    ),
    (
        10,
        &[
            "自来水管漏水严重，路面结冰",
            "小区停水已经两天没有通知",
            "下水道堵塞，污水外溢",
            "水压太低，高层住户用不上水",
        ],
    ),
    (
        8,
        &[
            "路灯不亮已经一周，夜间出行不便",
            "小区路灯损坏无人维修",
            "路灯杆倾斜存在安全隐患",
        ],
    ),
    (
        5,
        &[
            "有人私搭乱建，违章建筑占用公共绿地",
            "楼顶加盖违章建筑，存在安全隐患",
            "违章建筑侵占消防通道",
        ],
    ),
    (
        10,
        &[
            "商贩占道经营影响通行",
            "井盖缺失，行人容易跌落",
            "路面塌陷出现大坑",
            "车辆乱停乱放堵塞道路",
        ],
    ),
    (
        12,
        &[
            "生活垃圾堆放多日无人清理，气味难闻",
            "垃圾桶满溢，蚊蝇滋生",
            "河道漂浮垃圾，水体发黑发臭",
        ],
    ),
    (6, &["施工单位拖欠农民工工资三个月", "公司拖欠工资拒不支付"]),
    (
        12,
        &[
            "物业公司服务差，收费不透明",
            "电梯经常故障，老人出行困难",
            "小区绿化带被毁种菜",
        ],
    ),
    (
        10,
        &[
            "邻里因宅基地界线发生纠纷",
            "土地承包合同纠纷，要求村委会调解",
            "因漏水问题与楼上住户产生矛盾",
        ],
    ),
    (
        8,
        &["供暖温度不达标，室内只有十五度", "暖气不热，多次报修未果"],
    ),
    (
        10,
        &[
            "电动车在楼道充电，存在火灾隐患",
            "流浪犬较多，担心伤人",
            "校门口交通秩序混乱",
        ],
    ),
];

const DETAILS: &[&str] = &[
    "周边住户有三百多户，老人和孩子较多，",
    "此前已向物业反映过但没有效果，",
    "现场有照片和视频可以证明，",
    "该路段是学生上下学的必经之路，",
    "附近居民意见很大，",
    "晚上经常有人路过，",
    "社区工作人员曾经来看过，",
    "问题反复出现，",
    "雨天情况更加严重，",
    "影响周边商户正常营业，",
];

const REQUESTS: &[&str] = &[
    "请求相关部门尽快处理。",
    "希望社区协调解决。",
    "要求给予书面答复。",
    "恳请有关部门核实处理。",
    "希望尽快派人维修。",
];

const NOTES: &[&str] = &[
    "网格员已到现场核实，情况属实。",
    "已转交住建部门处理。",
    "已电话回访，群众表示满意。",
    "责任单位承诺三日内整改完毕。",
    "经调解双方达成一致意见。",
];

const TITLES: &[&str] = &["群众来电", "网上留言", "巡查发现", "来访登记"];

/// Generates the synthetic cases.
struct CaseGenerator {
    random: SplitMix,
    weight_total: usize,
}

impl CaseGenerator {
    fn new() -> Self {
        Self {
            random: SplitMix(0x5eed_f00d),
            weight_total: PROBLEMS.iter().map(|(weight, _)| weight).sum(),
        }
    }

    fn main_problem(&mut self) -> &'static [&'static str] {
        let mut roll = self.random.below(self.weight_total);
        for (weight, phrases) in PROBLEMS {
            if roll < *weight {
                return phrases;
            }
            roll -= weight;
        }
        PROBLEMS[0].1
    }

    fn any_problem(&mut self) -> &'static str {
        let (_, phrases) = PROBLEMS[self.random.below(PROBLEMS.len())];
        self.random.pick(phrases)
    }

    /// The case with this id: about 200 characters, in one village, spread evenly over the counties.
    fn case(&mut self, id: usize) -> SearchDoc {
        let village = id % (COUNTIES * TOWNS_PER_COUNTY * VILLAGES_PER_TOWN);
        let (county, town, village) = (
            village / (TOWNS_PER_COUNTY * VILLAGES_PER_TOWN),
            village / VILLAGES_PER_TOWN % TOWNS_PER_COUNTY,
            village % VILLAGES_PER_TOWN,
        );
        let county_code = format!("3708{:02}", county + 1);
        let town_code = format!("{county_code}{:03}", town + 101);
        let village_code = format!("{town_code}{:03}", village + 1);
        let town_path = format!("/37/3708/{county_code}/{town_code}/");
        let path = format!("{town_path}{village_code}/");
        let owner_path = if self.random.chance(10) {
            format!("/37/3708/{county_code}/")
        } else {
            town_path
        };

        let random = &mut self.random;
        let mut text = String::with_capacity(720);
        text.push_str(random.pick(OPENERS));
        text.push_str(random.pick(PLACES));
        text.push('，');
        text.push_str(random.pick(SINCE));
        let main = self.main_problem();
        let random = &mut self.random;
        text.push_str(random.pick(main));
        text.push('，');
        while text.chars().count() < 170 {
            text.push_str(random.pick(DETAILS));
        }
        if self.random.chance(25) {
            let other = self.any_problem();
            text.push_str("另外，");
            text.push_str(other);
            text.push('，');
        }
        let random = &mut self.random;
        text.push_str(random.pick(REQUESTS));
        let notes = if random.chance(50) {
            vec![random.pick(NOTES).to_owned()]
        } else {
            Vec::new()
        };

        SearchDoc {
            id: id as i64,
            number: format!("FQ{:08}", id),
            title: random.pick(TITLES).to_owned(),
            description: text,
            notes,
            path,
            owner_path,
            units: vec![
                format!("dept:{}", random.below(40) + 1),
                format!("grid:{village_code}001"),
            ],
            status: "in_progress".to_owned(),
            kind: "complaint".to_owned(),
            category: None,
            // About two years, a case every minute or so.
            created_at: 1_700_000_000 + id as i64 * 60 + random.below(60) as i64,
        }
    }
}
