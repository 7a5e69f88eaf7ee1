//! Sizes, palette and fonts in one place.
//!
//! The palette is Okabe–Ito's, readable for the common kinds of colour blindness; its
//! colours keep enough contrast on both the light and the dark page background. Text and axes
//! use a mid grey that the page's CSS re-colours (`fill: currentColor`) for dark mode.

use plotters::style::RGBColor;

/// The size a chart is drawn at. A page holds each chart twice, wide and narrow, and shows the
/// one that fits at its natural size: text is never scaled below its font size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    /// The plot's height (a legend under a narrow chart adds its own).
    pub height: u32,
}

/// For a desktop page (64rem of content), legend at the right.
pub const WIDE: Canvas = Canvas {
    width: 760,
    height: 360,
};
/// For a phone (340 px fits a 390 px screen's content), legend under the plot.
pub const NARROW: Canvas = Canvas {
    width: 340,
    height: 300,
};

impl Canvas {
    pub fn narrow(self) -> bool {
        self.width < WIDE.width
    }
}

/// Width kept on the right for the legend of a wide chart with series.
pub const LEGEND_WIDTH: u32 = 170;
/// One legend row.
pub const LEGEND_ROW: u32 = 20;
/// Font family named in the SVG; no font file is read, browsers pick their sans-serif.
pub const FONT: &str = "sans-serif";
/// Axis titles, headings and notes.
pub const FONT_SIZE: f64 = 13.0;
/// Tick labels, legends and every other text: the least any chart text is drawn at.
pub const SMALL: f64 = 12.0;
/// plotters sizes a font by its line height and writes `font-size` as that over 1.24.
pub const LINE_HEIGHT: f64 = 1.24;
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
    short_to(label, MAX_LABEL)
}

/// `label` cut to `max` characters with an ellipsis.
pub fn short_to(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let cut: String = label.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
