//! Printable documents generated from records: the mediation agreement (调解协议书) as PDF (typst, with the
//! CJK fonts the caller loads — Debian's `fonts-noto-cjk` in production) and as DOCX (docx-rs, which names the
//! font and leaves it to the reader's machine).
//!
//! Pure computation over bytes: no files, no network (typst's package downloads are not compiled in).

use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts};
use typst::foundations::{Array, Dict, IntoValue, Value};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

/// The typst source of the agreement; the data arrive as `sys.inputs`.
const AGREEMENT_TEMPLATE: &str = include_str!("agreement.typ");

/// The font family the documents are set in (inside Debian's `NotoSerifCJK-*.ttc`).
pub const FONT_FAMILY: &str = "Noto Serif CJK SC";

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("no usable font was given")]
    NoFonts,
    #[error("typesetting failed: {0}")]
    Typeset(String),
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
    #[error("writing the DOCX failed: {0}")]
    Docx(String),
}

/// A party as printed on the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedParty {
    /// 申请人, 被申请人 …
    pub role: String,
    pub name: String,
}

/// One term as printed, with its amount in yuan already formatted (e.g. `3000.00`) if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedTerm {
    pub text: String,
    pub amount_yuan: Option<String>,
}

/// What the agreement document shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementDocument {
    /// The committee's name, printed at the top.
    pub committee: String,
    /// The document's number (the case number and the mediation id).
    pub number: String,
    pub kind: String,
    pub parties: Vec<PrintedParty>,
    pub facts: String,
    pub terms: Vec<PrintedTerm>,
    /// The total amount in yuan, if any term moves money.
    pub total_yuan: Option<String>,
    /// 履行期限, as a Chinese date.
    pub performance_deadline: String,
    pub mediators: Vec<String>,
    /// The signing date, as a Chinese date.
    pub signed_on: String,
}

impl AgreementDocument {
    fn inputs(&self) -> Dict {
        let mut dict = Dict::new();
        let text = |s: &str| s.to_string().into_value();
        dict.insert("committee".into(), text(&self.committee));
        dict.insert("number".into(), text(&self.number));
        dict.insert("kind".into(), text(&self.kind));
        let parties: Array = self
            .parties
            .iter()
            .map(|p| {
                let mut d = Dict::new();
                d.insert("role".into(), text(&p.role));
                d.insert("name".into(), text(&p.name));
                Value::Dict(d)
            })
            .collect();
        dict.insert("parties".into(), Value::Array(parties));
        dict.insert("facts".into(), text(&self.facts));
        let terms: Array = self
            .terms
            .iter()
            .map(|t| {
                let mut d = Dict::new();
                d.insert("text".into(), text(&t.text));
                d.insert(
                    "amount".into(),
                    t.amount_yuan
                        .as_deref()
                        .map_or(Value::None, |a| a.to_string().into_value()),
                );
                Value::Dict(d)
            })
            .collect();
        dict.insert("terms".into(), Value::Array(terms));
        dict.insert(
            "total".into(),
            self.total_yuan
                .as_deref()
                .map_or(Value::None, |a| a.to_string().into_value()),
        );
        dict.insert("deadline".into(), text(&self.performance_deadline));
        let mediators: Array = self.mediators.iter().map(|m| text(m)).collect();
        dict.insert("mediators".into(), Value::Array(mediators));
        dict.insert("signed_on".into(), text(&self.signed_on));
        dict.insert("font".into(), text(FONT_FAMILY));
        dict
    }

    /// The agreement as PDF, set in the given font files (OpenType/TrueType files or collections).
    pub fn pdf(&self, fonts: &[Vec<u8>]) -> Result<Vec<u8>, DocumentError> {
        if fonts.is_empty() {
            return Err(DocumentError::NoFonts);
        }
        let engine = TypstEngine::builder()
            .main_file(AGREEMENT_TEMPLATE)
            .fonts(fonts.iter().map(|f| f.as_slice()))
            .build();
        let document: PagedDocument = engine
            .compile_with_input(self.inputs())
            .output
            .map_err(|e| DocumentError::Typeset(format!("{e:?}")))?;
        typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
            .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
    }

    /// The agreement as DOCX (the font is named, not embedded).
    pub fn docx(&self) -> Result<Vec<u8>, DocumentError> {
        let fonts = RunFonts::new()
            .east_asia(FONT_FAMILY)
            .ascii(FONT_FAMILY)
            .hi_ansi(FONT_FAMILY);
        let line = |text: &str, size: usize, bold: bool| {
            let mut run = Run::new().add_text(text).size(size).fonts(fonts.clone());
            if bold {
                run = run.bold();
            }
            Paragraph::new().add_run(run)
        };
        let mut doc = Docx::new()
            .add_paragraph(line(&self.committee, 28, false).align(AlignmentType::Center))
            .add_paragraph(line("人民调解协议书", 40, true).align(AlignmentType::Center))
            .add_paragraph(
                line(&format!("编号：{}", self.number), 24, false).align(AlignmentType::Right),
            );
        for party in &self.parties {
            doc = doc.add_paragraph(line(&format!("{}：{}", party.role, party.name), 24, false));
        }
        doc = doc
            .add_paragraph(line(&format!("调解类型：{}", self.kind), 24, false))
            .add_paragraph(line("纠纷主要事实、争议事项：", 24, true))
            .add_paragraph(line(&self.facts, 24, false))
            .add_paragraph(line("经调解，自愿达成如下协议：", 24, true));
        for (i, term) in self.terms.iter().enumerate() {
            let amount = term
                .amount_yuan
                .as_deref()
                .map(|a| format!("（金额：人民币 {a} 元）"))
                .unwrap_or_default();
            doc = doc.add_paragraph(line(
                &format!("{}. {}{amount}", i + 1, term.text),
                24,
                false,
            ));
        }
        if let Some(total) = &self.total_yuan {
            doc = doc.add_paragraph(line(&format!("涉及金额合计：人民币 {total} 元"), 24, false));
        }
        doc = doc
            .add_paragraph(line(
                &format!("履行方式、时限：上述协议于 {} 前履行完毕。", self.performance_deadline),
                24,
                false,
            ))
            .add_paragraph(line(
                "本协议自各方当事人签名、调解员签名并加盖人民调解委员会印章之日起生效。本协议书一式三份，双方当事人、人民调解委员会各持一份。",
                24,
                false,
            ));
        for party in &self.parties {
            doc = doc.add_paragraph(line(
                &format!("{}（签名）：______________", party.role),
                24,
                false,
            ));
        }
        doc = doc
            .add_paragraph(line(
                &format!("调解员（签名）：{}", self.mediators.join("、")),
                24,
                false,
            ))
            .add_paragraph(line("（人民调解委员会印章）", 24, false).align(AlignmentType::Right))
            .add_paragraph(line(&self.signed_on, 24, false).align(AlignmentType::Right));
        let mut out = std::io::Cursor::new(Vec::new());
        doc.build()
            .pack(&mut out)
            .map_err(|e| DocumentError::Docx(e.to_string()))?;
        Ok(out.into_inner())
    }
}

/// Formats an amount in fen as yuan with two decimals (`300000` → `3000.00`).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// A date as Chinese print shows it (`2026年12月31日`).
pub fn chinese_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_in_yuan() {
        assert_eq!(yuan(300_000), "3000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-150), "-1.50");
        assert_eq!(
            chinese_date(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            "2026年12月31日"
        );
    }

    #[test]
    fn without_fonts_there_is_no_pdf() {
        let doc = AgreementDocument {
            committee: "x".into(),
            number: "1".into(),
            kind: "人民调解".into(),
            parties: vec![],
            facts: "f".into(),
            terms: vec![],
            total_yuan: None,
            performance_deadline: "d".into(),
            mediators: vec![],
            signed_on: "s".into(),
        };
        assert!(matches!(doc.pdf(&[]), Err(DocumentError::NoFonts)));
        let docx = doc.docx().unwrap();
        assert_eq!(&docx[..2], b"PK");
    }
}
