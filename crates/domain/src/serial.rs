//! Serial numbers and IMEIs (SPEC §2.3).

/// Whether `serial` is a valid IMEI: exactly 15 ASCII digits whose Luhn check digit is right.
pub fn is_valid_imei(serial: &str) -> bool {
    let bytes = serial.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a product category names a phone product: case-insensitively, one of its words is
/// `phone`, `phones`, `smartphone`, `smartphones`, or the words `mobile phone(s)` appear
/// (SPEC §2.3, Recommended). `Headphones`, `Microphones` and `Automobiles` are not.
pub fn is_phone_category(category: &str) -> bool {
    let lower = category.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| matches!(w, "phone" | "phones" | "smartphone" | "smartphones"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imei_needs_fifteen_digits_and_luhn() {
        assert!(is_valid_imei("490154203237518"));
        assert!(!is_valid_imei("490154203237517"));
        assert!(!is_valid_imei("49015420323751"));
        assert!(!is_valid_imei("49015420323751a"));
    }

    #[test]
    fn phone_categories_are_whole_words() {
        for yes in [
            "Phones",
            "Smartphones",
            "Mobile Phones",
            "phone",
            "Refurbished smartphone",
        ] {
            assert!(is_phone_category(yes), "{yes}");
        }
        for no in [
            "Headphones",
            "Microphones",
            "Automobiles",
            "Laptops",
            "Telephony",
        ] {
            assert!(!is_phone_category(no), "{no}");
        }
    }
}
