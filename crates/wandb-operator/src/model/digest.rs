//! A short, stable digest of text (FNV-1a, 64 bits, hex): detects that something changed and
//! names one-off objects after their request. Not a security measure, and never applied to a
//! credential.

/// The FNV-1a digest of `text` as 16 hex digits.
pub fn fnv1a(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
