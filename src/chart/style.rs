//! Sizes, palette and fonts in one place.
//!
//! The palette is Okabe–Ito's, readable for the common kinds of colour blindness; its
//! colours keep enough contrast on both the light and the dark page background. Text and axes
//! use a mid grey that the page's CSS re-colours (`fill: currentColor`) for dark mode.

use plotters::style::RGBColor;

pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 360;
/// Width kept on the right for the legend when a chart has series.
pub const LEGEND_WIDTH: u32 = 170;
/// Font family named in the SVG; no font file is read, browsers pick their sans-serif.
pub const FONT: &str = "sans-serif";
pub const FONT_SIZE: f64 = 13.0;
pub const AXIS: RGBColor = RGBColor(0x76, 0x76, 0x76);
pub const GRID: RGBColor = RGBColor(0xd0, 0xd0, 0xd0);
pub const TEXT: RGBColor = RGBColor(0x33, 0x33, 0x33);

pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x99, 0x99, 0x99), // grey, for "other"
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Labels longer than this are cut with an ellipsis on axes and legends (the data table keeps them whole).
pub const MAX_LABEL: usize = 28;

pub fn short(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        label.to_string()
    } else {
        let cut: String = label.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    }
}
