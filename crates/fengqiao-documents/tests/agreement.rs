//! The agreement renders Chinese: the PDF is valid and its extracted text holds the parties and terms.
//! Fonts come from Debian's `fonts-noto-cjk` (scripts/test installs it); text is extracted with poppler's
//! `pdftotext` (`poppler-utils`, installed the same way).

#![allow(clippy::unwrap_used)]

use fengqiao_documents::{AgreementDocument, PrintedParty, PrintedTerm};

pub const FONT_FILES: [&str; 2] = [
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
];

fn sample() -> AgreementDocument {
    AgreementDocument {
        committee: "太平镇人民调解委员会".into(),
        number: "370883107-20261123-0001-2".into(),
        kind: "人民调解".into(),
        parties: vec![
            PrintedParty {
                role: "申请人".into(),
                name: "刘建国".into(),
            },
            PrintedParty {
                role: "被申请人".into(),
                name: "王德胜".into(),
            },
        ],
        facts: "双方因承包地界址发生争议，经村调委会调解未果。".into(),
        terms: vec![
            PrintedTerm {
                text: "以二〇一九年确权图为准重新确定地界".into(),
                amount_yuan: None,
            },
            PrintedTerm {
                text: "王德胜补偿刘建国青苗损失".into(),
                amount_yuan: Some("3000.00".into()),
            },
        ],
        total_yuan: Some("3000.00".into()),
        performance_deadline: "2026年12月31日".into(),
        mediators: vec!["赵调解".into()],
        signed_on: "2026年11月28日".into(),
    }
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) must be installed: scripts/test installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_agreement_pdf_holds_the_parties_and_terms_in_chinese() {
    let fonts: Vec<Vec<u8>> = FONT_FILES
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e} (install fonts-noto-cjk)")))
        .collect();
    let pdf = sample().pdf(&fonts).unwrap();
    if let Ok(dir) = std::env::var("FQ_DOCUMENTS_OUT") {
        // For looking at it: `FQ_DOCUMENTS_OUT=/tmp cargo test -p fengqiao-documents`, then pdftoppm.
        std::fs::write(std::path::Path::new(&dir).join("agreement.pdf"), &pdf).unwrap();
    }
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(pdf.windows(5).any(|w| w == b"%%EOF"), "truncated PDF");
    let text: String = pdftotext(&pdf)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for expected in [
        "人民调解协议书",
        "太平镇人民调解委员会",
        "申请人：刘建国",
        "被申请人：王德胜",
        "以二〇一九年确权图为准重新确定地界",
        "王德胜补偿刘建国青苗损失",
        "3000.00",
        "2026年12月31日",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}

#[test]
fn the_agreement_docx_holds_the_text() {
    let docx = sample().docx().unwrap();
    assert_eq!(&docx[..2], b"PK");
    // The body is deflated inside the zip; the document part's name is plain.
    assert!(docx.windows(17).any(|w| w == b"word/document.xml"));
}
