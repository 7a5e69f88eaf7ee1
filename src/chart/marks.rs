//! Marks that carry their values. Every point, bar, cell, box, calendar day and legend swatch
//! is an SVG group whose `<title>` names its series, x and value as its axes write them: shown
//! on hover by every browser and read by screen readers, with no script. plotters has no way to
//! give an element a title, so the kinds draw axes, grids and lines with plotters and their
//! marks here, at the pixel positions plotters maps their data to.

use std::fmt::Write;

use plotters::style::RGBColor;

/// How a mark is painted.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Fill(RGBColor),
    /// Filled at an opacity (overlaid histograms, a box's body).
    Translucent(RGBColor, f64),
    /// A 1 px outline only (a cell without data).
    Outline(RGBColor),
    /// A 2 px ring (the point of a partial period).
    Ring(RGBColor),
    /// A 2 px dashed outline (around a partial period's column).
    Dashed(RGBColor),
}

/// The marks of one chart, in drawing order.
#[derive(Debug, Default)]
pub struct Marks {
    svg: String,
}

impl Marks {
    /// A rectangle between two corners (in either order).
    pub fn rect(&mut self, a: (i32, i32), b: (i32, i32), paint: Paint, title: &str) {
        self.open(title);
        self.shape_rect(a, b, paint);
        self.svg.push_str("</g>\n");
    }

    pub fn circle(&mut self, (cx, cy): (i32, i32), r: i32, paint: Paint, title: &str) {
        self.open(title);
        let _ = writeln!(
            self.svg,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" {}/></g>",
            paint_attrs(paint)
        );
    }

    /// A mark of several shapes under one title: a box with its whiskers, a colour ramp.
    pub fn group(&mut self, title: &str) -> Group<'_> {
        self.open(title);
        Group { marks: self }
    }

    /// `svg` (a drawing plotters wrote) with the marks drawn last, over its grid and axes.
    pub fn drawn_into(&self, svg: &str) -> String {
        match svg.rfind("</svg>") {
            Some(end) => format!(
                "{}<g class=\"marks\">\n{}</g>\n{}",
                &svg[..end],
                self.svg,
                &svg[end..]
            ),
            None => svg.to_string(),
        }
    }

    fn open(&mut self, title: &str) {
        let _ = write!(self.svg, "<g><title>{}</title>", super::escape(title));
    }

    fn shape_rect(&mut self, (x0, y0): (i32, i32), (x1, y1): (i32, i32), paint: Paint) {
        let (x, y) = (x0.min(x1), y0.min(y1));
        let (w, h) = ((x1 - x0).abs(), (y1 - y0).abs());
        let _ = write!(
            self.svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" {}/>",
            paint_attrs(paint)
        );
    }
}

/// The shapes of one titled mark; closed when dropped.
pub struct Group<'a> {
    marks: &'a mut Marks,
}

impl Group<'_> {
    pub fn rect(&mut self, a: (i32, i32), b: (i32, i32), paint: Paint) -> &mut Self {
        self.marks.shape_rect(a, b, paint);
        self
    }

    pub fn line(
        &mut self,
        (x0, y0): (i32, i32),
        (x1, y1): (i32, i32),
        colour: RGBColor,
        width: u32,
    ) -> &mut Self {
        let _ = write!(
            self.marks.svg,
            "<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"{}\" stroke-width=\"{width}\"/>",
            hex(colour)
        );
        self
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        self.marks.svg.push_str("</g>\n");
    }
}

fn paint_attrs(paint: Paint) -> String {
    match paint {
        Paint::Fill(c) => format!("fill=\"{}\"", hex(c)),
        Paint::Translucent(c, a) => format!("fill=\"{}\" fill-opacity=\"{a}\"", hex(c)),
        Paint::Outline(c) => format!("fill=\"none\" stroke=\"{}\" stroke-width=\"1\"", hex(c)),
        Paint::Ring(c) => format!("fill=\"none\" stroke=\"{}\" stroke-width=\"2\"", hex(c)),
        Paint::Dashed(c) => format!(
            "fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"",
            hex(c)
        ),
    }
}

fn hex(RGBColor(r, g, b): RGBColor) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// The title of a mark: "series, x: value", or "x: value" when the chart has one series.
pub fn title(series: Option<&str>, x: &str, value: &str) -> String {
    match series {
        Some(s) => format!("{s}, {x}: {value}"),
        None => format!("{x}: {value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mark_is_a_group_led_by_its_escaped_title() {
        let mut m = Marks::default();
        m.rect(
            (10, 20),
            (4, 8),
            Paint::Fill(RGBColor(0, 0x72, 0xB2)),
            "a<b, 1: 2",
        );
        m.circle((1, 2), 3, Paint::Ring(RGBColor(1, 2, 3)), "x: 1");
        m.group("box")
            .rect((0, 0), (1, 1), Paint::Translucent(RGBColor(0, 0, 0), 0.35))
            .line((0, 0), (1, 1), RGBColor(0, 0, 0), 3);
        let svg = m.drawn_into("<svg><rect/></svg>\n");
        assert_eq!(
            svg,
            "<svg><rect/><g class=\"marks\">\n\
             <g><title>a&lt;b, 1: 2</title><rect x=\"4\" y=\"8\" width=\"6\" height=\"12\" fill=\"#0072B2\"/></g>\n\
             <g><title>x: 1</title><circle cx=\"1\" cy=\"2\" r=\"3\" fill=\"none\" stroke=\"#010203\" stroke-width=\"2\"/></g>\n\
             <g><title>box</title><rect x=\"0\" y=\"0\" width=\"1\" height=\"1\" fill=\"#000000\" fill-opacity=\"0.35\"/>\
             <line x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\" stroke=\"#000000\" stroke-width=\"3\"/></g>\n\
             </g>\n</svg>\n"
        );
    }
}
