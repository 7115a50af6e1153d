//! The entropy detector of Entire's `String` (`redaction.md` §2.1) and the Shannon entropy shared
//! with the rule engine's `entropy` gate (§7.3 step 5).
//!
//! It owns candidate finding (maximal runs of `[A-Za-z0-9+_=-]`, at least 10 bytes), the escape
//! guard and the threshold. It does not merge or replace regions (`scan`).

/// Candidates shorter than this are never secrets (the `{10,}` of Entire's regex).
pub(crate) const MIN_CANDIDATE: usize = 10;

/// Strictly above this entropy a candidate is a secret.
const THRESHOLD: f64 = 4.5;

/// `H > 4.5` needs at least 23 distinct bytes (log2 22 = 4.459), so anything with fewer distinct
/// bytes is rejected without computing logarithms. This is the common case for words and hex.
const MIN_DISTINCT: usize = 23;

/// Bytes of the candidate class `[A-Za-z0-9+_=-]`.
static CLASS: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'_' || c == b'=' || c == b'-';
        b += 1;
    }
    t
};

/// Shannon entropy in bits over the byte values of `s` (0 for an empty slice).
pub(crate) fn shannon(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    entropy_of_counts(&counts, s.len())
}

fn entropy_of_counts(counts: &[u32; 256], len: usize) -> f64 {
    let n = len as f64;
    let mut h = 0.0;
    for &c in counts.iter() {
        if c > 0 {
            let p = f64::from(c) / n;
            h -= p * p.log2();
        }
    }
    h
}

/// Appends the byte regions of `s` that the entropy detector flags.
///
/// The leftmost non-overlapping matches of a greedy `[A-Za-z0-9+_=-]{10,}` are exactly the maximal
/// runs of class bytes that are at least 10 long, so a table-driven loop replaces the regex.
pub(crate) fn find(s: &[u8], regions: &mut Vec<(usize, usize)>) {
    if s.len() < MIN_CANDIDATE {
        return;
    }
    let mut i = 0;
    let n = s.len();
    while i < n {
        if !CLASS[s[i] as usize] {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && CLASS[s[i] as usize] {
            i += 1;
        }
        let end = i;
        if end - start < MIN_CANDIDATE {
            continue;
        }
        // Escape guard: in JSON-escaped text `\nFoo...` the `n` belongs to the escape, and
        // redacting it would leave an invalid `\` escape behind.
        let mut cstart = start;
        if start > 0
            && s[start - 1] == b'\\'
            && matches!(s[start], b'n' | b't' | b'r' | b'b' | b'f' | b'u')
        {
            cstart += 1;
            if end - cstart < MIN_CANDIDATE {
                continue;
            }
        }
        if is_secret(&s[cstart..end]) {
            regions.push((cstart, end));
        }
    }
}

fn is_secret(tok: &[u8]) -> bool {
    let mut counts = [0u32; 256];
    let mut distinct = 0usize;
    for &b in tok {
        let c = &mut counts[b as usize];
        if *c == 0 {
            distinct += 1;
        }
        *c += 1;
    }
    if distinct < MIN_DISTINCT {
        return false;
    }
    entropy_of_counts(&counts, tok.len()) > THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(s: &str) -> Vec<&str> {
        let mut r = Vec::new();
        find(s.as_bytes(), &mut r);
        r.into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn entropy_of_known_strings() {
        assert!((shannon(b"abcdefghijklmnopqrstuv") - 22f64.log2()).abs() < 1e-9);
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
    }

    #[test]
    fn threshold_is_strict_at_23_distinct_bytes() {
        assert!(flagged("abcdefghijklmnopqrstuv").is_empty());
        assert_eq!(
            flagged("abcdefghijklmnopqrstuvw"),
            vec!["abcdefghijklmnopqrstuvw"]
        );
    }

    #[test]
    fn escape_guard_drops_the_escape_letter() {
        assert_eq!(
            flagged(r"\nABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            vec!["ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        );
        assert!(flagged(r"controller.go\nmodel.go").is_empty());
    }

    #[test]
    fn separators_split_candidates() {
        assert!(flagged("/repo/TestE2E_Something3407889464/001/controller.go").is_empty());
    }
}
