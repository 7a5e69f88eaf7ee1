//! Values and changes written as the panel that shows them writes them: a share as `7.1 %`
//! and its change in percentage points (`−7.1 pp`), a duration as `1.2 s`, a count with
//! thousands (`1,260`). Exact enough to see a change the chart's ticks would round away.

use crate::chart::ValueFormat;
use crate::query::Value;

/// `v` as a cell of the diff: numbers in `format` (when a panel names one for the column),
/// anything else as the query returned it.
pub fn value(v: &Value, format: Option<ValueFormat>) -> String {
    match (number(v), format) {
        (Some(n), Some(f)) => in_format(n, f),
        _ => v.to_string(),
    }
}

/// The number a value holds, when it is a finite one.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

fn in_format(n: f64, format: ValueFormat) -> String {
    match format {
        ValueFormat::Number => thousands(n, 4),
        ValueFormat::Percent => format!("{} %", thousands(n * 100.0, 2)),
        ValueFormat::DurationMs => minus(crate::chart::format_value(n, ValueFormat::DurationMs)),
    }
}

/// The change from `before` to `after` in the column's unit: `+3 (+60 %)`, `−7.1 pp`,
/// `+300 ms (+25 %)`.
pub fn change(before: f64, after: f64, format: Option<ValueFormat>) -> String {
    let d = after - before;
    let signed = |s: String| {
        if d > 0.0 {
            format!("+{s}")
        } else if d < 0.0 && !s.starts_with('−') {
            format!("−{s}")
        } else {
            s
        }
    };
    let relative = || {
        if before == 0.0 {
            String::new()
        } else {
            let r = d / before.abs() * 100.0;
            let r = if r > 0.0 {
                format!("+{}", thousands(r, 1))
            } else {
                thousands(r, 1)
            };
            format!(" ({r} %)")
        }
    };
    match format {
        Some(ValueFormat::Percent) => signed(format!("{} pp", thousands(d.abs() * 100.0, 2))),
        Some(ValueFormat::DurationMs) => {
            signed(in_format(d.abs(), ValueFormat::DurationMs)) + &relative()
        }
        _ => {
            let size = if d != 0.0 && d.abs() < 1e-4 {
                format!("{:e}", d.abs())
            } else {
                thousands(d.abs(), 4)
            };
            signed(size) + &relative()
        }
    }
}

/// `n` with at most `decimals` decimals (trailing zeros dropped), thousands separated by `,`,
/// and a true minus sign.
fn thousands(n: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, n.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (text.as_str(), ""),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    let zero = out.chars().all(|c| c == '0' || c == '.' || c == ',');
    if n < 0.0 && !zero {
        format!("−{out}")
    } else {
        out
    }
}

fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_the_panel_writes_them() {
        let pct = Some(ValueFormat::Percent);
        assert_eq!(value(&Value::Float(0.071), pct), "7.1 %");
        assert_eq!(value(&Value::Float(0.0), pct), "0 %");
        assert_eq!(change(0.071, 0.0, pct), "−7.1 pp");
        assert_eq!(change(0.25, 0.2525, pct), "+0.25 pp");
        let ms = Some(ValueFormat::DurationMs);
        assert_eq!(value(&Value::Float(1200.0), ms), "1.2 s");
        assert_eq!(change(1200.0, 1500.0, ms), "+300 ms (+25 %)");
        let n = Some(ValueFormat::Number);
        assert_eq!(value(&Value::Int(1260), n), "1,260");
        assert_eq!(value(&Value::Int(-1234567), n), "−1,234,567");
        assert_eq!(change(298.0, 274.0, n), "−24 (−8.1 %)");
        assert_eq!(change(0.0, 3.0, n), "+3");
        assert_eq!(change(5.0, 5.0, n), "0 (0 %)");
        // A column no panel formats reads as the query returned it.
        assert_eq!(value(&Value::Int(202334), None), "202334");
    }
}
