//! docs/compare.svg: a horizontal bar per variant, its median throughput, with a line from
//! its slowest to its fastest round. plotters draws it with its SVG backend alone; the text
//! is laid out by plotters' own estimate and drawn by the viewer's fonts, so no font library
//! is built.

use std::path::Path;

use plotters::prelude::*;

use super::stats::Summary;
use super::variant::Kind;

/// Height of one bar's row, pixels.
const ROW: u32 = 26;
/// Width of the labels' column, pixels.
const LABELS: u32 = 370;
const WIDTH: u32 = 1200;

/// Writes the chart of `summaries` to `path`; `title` says what was measured.
pub(crate) fn write(path: &Path, title: &str, summaries: &[Summary<'_>]) -> Result<(), String> {
    draw(path, title, summaries).map_err(|e| format!("drawing {}: {e}", path.display()))
}

fn draw(
    path: &Path,
    title: &str,
    summaries: &[Summary<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let bars = summaries.len() as i32;
    // Thousands a second; a failed variant has no bar.
    let rate = |s: &Summary<'_>| s.rate.map(|r| (r.median / 1e3, r.min / 1e3, r.max / 1e3));
    let fastest = summaries
        .iter()
        .filter_map(|s| rate(s).map(|(_, _, max)| max))
        .fold(1.0, f64::max);
    let height = 110 + ROW * summaries.len() as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(LABELS)
        // `0..n` holds n + 1 integers, so n bars take `0..n - 1`.
        .build_cartesian_2d(0.0..fastest * 1.15, (0..bars - 1).into_segmented())?;
    // Row 0 at the top: the first variant of the table is the first bar.
    let row = move |i: usize| bars - 1 - i as i32;
    let label_of = |value: &SegmentValue<i32>| match value {
        SegmentValue::CenterOf(r) if (0..bars).contains(r) => {
            let summary = &summaries[(bars - 1 - r) as usize];
            let failed = if summary.rate.is_none() {
                " (failed)"
            } else {
                ""
            };
            format!("{}{failed}", summary.outcome.label)
        }
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(summaries.len())
        .y_label_formatter(&label_of)
        .x_label_formatter(&|thousands| format!("{thousands:.0}"))
        .x_desc("thousand points written (blue) or rows read (orange) a second; line: min to max")
        .label_style(("sans-serif", 12))
        .draw()?;
    let write_color = RGBColor(60, 110, 180);
    let read_color = RGBColor(230, 140, 40);
    chart.draw_series(summaries.iter().enumerate().filter_map(|(i, s)| {
        let (median, _, _) = rate(s)?;
        let color = match s.outcome.kind {
            Kind::Write => write_color,
            Kind::Read => read_color,
        };
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row(i))),
                (median, SegmentValue::Exact(row(i) + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        Some(bar)
    }))?;
    chart.draw_series(summaries.iter().enumerate().filter_map(|(i, s)| {
        let (_, min, max) = rate(s)?;
        Some(PathElement::new(
            vec![
                (min, SegmentValue::CenterOf(row(i))),
                (max, SegmentValue::CenterOf(row(i))),
            ],
            BLACK.stroke_width(2),
        ))
    }))?;
    chart.draw_series(summaries.iter().enumerate().filter_map(|(i, s)| {
        let (median, _, max) = rate(s)?;
        Some(Text::new(
            format!("{median:.0} k"),
            (
                max.max(median) + fastest * 0.01,
                SegmentValue::CenterOf(row(i)),
            ),
            ("sans-serif", 12),
        ))
    }))?;
    root.present()?;
    Ok(())
}
