//! Normalisation and tokenisation shared by indexing and querying (they must agree exactly).

/// Queries longer than this (in chars) are cut: a pasted paragraph must not cost a full scan per
/// character, and the first sentence of a caller's problem carries the intent anyway.
pub const MAX_QUERY_CHARS: usize = 256;

/// What a term is; the scorer weights kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TermKind {
    /// One CJK character.
    Unigram,
    /// Two adjacent CJK characters.
    Bigram,
    /// A run of Latin letters and/or digits.
    Word,
}

/// A term with its position in the *original* text (byte offsets), for highlighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub kind: TermKind,
    pub start: usize,
    pub end: usize,
}

/// Full-width ASCII → half-width, ideographic space → space, lower-case. Always one char in, one
/// char out, so byte offsets into the original text stay computable for highlights.
pub fn normalize_char(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        // Multi-char lowercase forms (rare, e.g. 'İ') are left alone to keep the 1:1 mapping.
        (Some(l), None) => l,
        _ => c,
    }
}

/// CJK ideographs (unified + extension A + compatibility) and kana; these get n-grams.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// Function characters and question words that say nothing about the topic (and 办, which only
/// means something inside 办理/补办/…). Only dropped as
/// unigrams: a bigram containing them ("怎么") is dropped separately below, while content bigrams
/// that contain one ("办理") survive.
fn is_stop_unigram(c: char) -> bool {
    "的了吗呢吧啊呀嘛我你您他她它们是在有和与或及怎么样什如何请问一个这那哪谁要想能会可以就都也还办"
        .contains(c)
}

fn is_stop_bigram(a: char, b: char) -> bool {
    const STOP: &[&str] = &[
        "怎么", "么办", "如何", "什么", "请问", "我的", "可以", "一下", "我想", "我要", "想问",
        "问一", "怎样", "么样", "哪里", "在哪", "是不", "不是", "有没", "没有", "能不", "不能",
        "你们", "我们", "一个", "这个", "那个",
    ];
    let mut buf = [0u8; 8];
    let a_len = a.encode_utf8(&mut buf).len();
    let b_len = b.encode_utf8(&mut buf[a_len..]).len();
    let pair = std::str::from_utf8(&buf[..a_len + b_len]).unwrap_or("");
    STOP.contains(&pair)
}

/// Splits text into terms: CJK runs → unigrams + bigrams, Latin/digit runs → words; everything else
/// (ASCII and Chinese punctuation, symbols, spaces) separates runs.
pub fn tokenize(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    // (normalised char, byte start, byte end) of the current run.
    let mut cjk_run: Vec<(char, usize, usize)> = Vec::new();
    let mut word: Option<(String, usize, usize)> = None;

    for (start, orig) in text.char_indices() {
        let end = start + orig.len_utf8();
        let c = normalize_char(orig);
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            cjk_run.push((c, start, end));
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk_run, &mut out);
            match &mut word {
                Some((w, _, e)) => {
                    w.push(c);
                    *e = end;
                }
                None => word = Some((c.to_string(), start, end)),
            }
        } else {
            flush_word(&mut word, &mut out);
            flush_cjk(&mut cjk_run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_cjk(&mut cjk_run, &mut out);
    out
}

fn flush_word(word: &mut Option<(String, usize, usize)>, out: &mut Vec<Term>) {
    if let Some((text, start, end)) = word.take() {
        out.push(Term {
            text,
            kind: TermKind::Word,
            start,
            end,
        });
    }
}

fn flush_cjk(run: &mut Vec<(char, usize, usize)>, out: &mut Vec<Term>) {
    for (i, &(c, start, end)) in run.iter().enumerate() {
        if !is_stop_unigram(c) {
            out.push(Term {
                text: c.to_string(),
                kind: TermKind::Unigram,
                start,
                end,
            });
        }
        if let Some(&(d, _, end2)) = run.get(i + 1) {
            if !is_stop_bigram(c, d) {
                let mut text = String::with_capacity(8);
                text.push(c);
                text.push(d);
                out.push(Term {
                    text,
                    kind: TermKind::Bigram,
                    start,
                    end: end2,
                });
            }
        }
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn cjk_gets_unigrams_and_bigrams() {
        assert_eq!(texts("社保卡"), ["社", "社保", "保", "保卡", "卡"]);
    }

    #[test]
    fn punctuation_full_width_and_case() {
        // Chinese punctuation splits runs, so no bigram spans "灯。不".
        assert_eq!(
            texts("路灯。不亮？"),
            ["路", "路灯", "灯", "不", "不亮", "亮"]
        );
        assert_eq!(
            texts("ＡＢＣ１２３４５，Hello-World"),
            ["abc12345", "hello", "world"]
        );
        assert_eq!(texts("“（）：；、！"), Vec::<String>::new());
    }

    #[test]
    fn stop_words_dropped() {
        // "怎么办" contributes nothing; "办" still counts inside bigrams.
        assert_eq!(texts("怎么办"), Vec::<String>::new());
        assert_eq!(texts("补办"), ["补", "补办"]);
    }

    #[test]
    fn offsets_point_into_original() {
        let s = "Ａ路灯";
        for t in tokenize(s) {
            assert!(s.get(t.start..t.end).is_some());
        }
        let t = &tokenize(s)[0];
        assert_eq!((t.text.as_str(), &s[t.start..t.end]), ("a", "Ａ"));
    }

    #[test]
    fn mixed_scripts() {
        assert_eq!(texts("12345热线app"), ["12345", "热", "热线", "线", "app"]);
    }
}
