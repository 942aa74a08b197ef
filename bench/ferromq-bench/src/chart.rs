//! `ferromq bench-chart IN.json OUT.png`: draws the ratio table written by
//! bench/run_all.py as a bar chart (times better than the peer, log scale,
//! with each goal marked).

use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;

/// Fonts tried in order; the chart needs one for its labels.
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// One bar: a metric, how many times better than the peer we are, the goal
/// in the same unit, and whether the figure counts (machine not too busy).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub name: String,
    pub better: f64,
    pub goal: Option<f64>,
}

/// Read the `rows` of a run_all.py results file into bars. A row has
/// `name`, `ratio` (ours ÷ peer), `higher_is_better` and optionally `goal`
/// (as a ratio ours ÷ peer); rows without a ratio are skipped.
pub fn bars(doc: &Value) -> Vec<Bar> {
    let Some(rows) = doc.get("rows").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|r| {
            let name = r.get("name")?.as_str()?.to_string();
            let ratio = r.get("ratio")?.as_f64().filter(|x| *x > 0.0)?;
            let higher = r.get("higher_is_better")?.as_bool()?;
            let flip = |x: f64| if higher { x } else { 1.0 / x };
            let goal = r
                .get("goal")
                .and_then(Value::as_f64)
                .filter(|g| *g > 0.0)
                .map(flip);
            Some(Bar {
                name,
                better: flip(ratio),
                goal,
            })
        })
        .collect()
}

pub fn main(argv: &[String]) -> Result<(), String> {
    let [input, output] = argv else {
        return Err("usage: ferromq bench-chart RESULTS.json OUT.png".into());
    };
    let text = std::fs::read_to_string(input).map_err(|e| format!("{input}: {e}"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{input}: {e}"))?;
    let bars = bars(&doc);
    if bars.is_empty() {
        return Err(format!("{input}: no rows with a ratio"));
    }
    let title = doc
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("FerroMQ vs peers");
    load_font()?;
    draw(&bars, title, output).map_err(|e| format!("{output}: {e}"))
}

fn load_font() -> Result<(), String> {
    for path in FONTS {
        if let Ok(bytes) = std::fs::read(path) {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return Ok(());
            }
        }
    }
    Err(format!("no usable font (tried {})", FONTS.join(", ")))
}

fn draw(bars: &[Bar], title: &str, output: &str) -> Result<(), Box<dyn std::error::Error>> {
    let n = bars.len();
    let height = 120 + 34 * n as u32;
    let root = BitMapBackend::new(output, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let lo = bars
        .iter()
        .flat_map(|b| [Some(b.better), b.goal])
        .flatten()
        .fold(0.5f64, f64::min)
        / 2.0;
    let hi = bars
        .iter()
        .flat_map(|b| [Some(b.better), b.goal])
        .flatten()
        .fold(2.0f64, f64::max)
        * 2.0;
    let names: Vec<String> = bars.iter().map(|b| b.name.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (*y - 0.5).round();
            if (*y - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                names.get(n - 1 - i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("times better than the peer (log scale; right of 1 = better; black tick = goal)")
        .x_label_formatter(&|x| format!("{x}"))
        .label_style(("sans-serif", 14))
        .draw()?;
    for (k, b) in bars.iter().enumerate() {
        let y = (n - 1 - k) as f64;
        let ok = b.goal.is_none_or(|g| b.better >= g);
        let color = if ok {
            RGBColor(46, 139, 87)
        } else {
            RGBColor(200, 60, 50)
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [(1.0, y + 0.2), (b.better, y + 0.8)],
            color.filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{:.2}x", b.better),
            (b.better * 1.05, y + 0.35),
            ("sans-serif", 13),
        )))?;
        if let Some(g) = b.goal {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(g, y + 0.05), (g, y + 0.95)],
                BLACK.stroke_width(3),
            )))?;
        }
    }
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(1.0, 0.0), (1.0, n as f64)],
        BLACK.stroke_width(1),
    )))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lower_is_better_rows_are_flipped() {
        let doc = json!({"rows": [
            {"name": "rate", "ratio": 4.0, "higher_is_better": true, "goal": 3.0},
            {"name": "rss", "ratio": 0.5, "higher_is_better": false, "goal": 1.0},
            {"name": "missing", "ratio": null, "higher_is_better": true},
        ]});
        let b = bars(&doc);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].better, b[0].goal), (4.0, Some(3.0)));
        assert_eq!((b[1].better, b[1].goal), (2.0, Some(1.0)));
    }
}
