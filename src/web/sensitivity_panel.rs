//! The sensitivity panel (METHOD §7): the core's table for the dashboard's
//! filter as a tornado chart (one bar pair per input, the 1 % threshold
//! marked) and a table, with the `sensitivity.csv` download. The rows come
//! from `method::sensitivity::table`; nothing is computed here.

use leptos::prelude::*;
use plotly::common::{Marker, Orientation, Title};
use plotly::layout::{Axis, BarMode, Layout, Margin};
use plotly::{Bar, Plot};

use super::charts::{self, Chart};
use super::{fmt_num, Session};
use crew_mrv_core::method::sensitivity::{Input, SensitivityRow, THRESHOLD_RELATIVE};
use crew_mrv_core::Filter;

/// Bar colours of the perturbations: lower, higher, the other policy;
/// none of them a quality flag's colour.
const COLORS: [&str; 3] = ["#1565c0", "#00838f", "#4e342e"];

/// Which rows a trace draws.
type Pick = fn(&SensitivityRow) -> bool;

/// The tornado chart: per plant and input, the relative change of the
/// VALID total in percent, a bar per perturbation; dashed lines at the
/// threshold either side.
fn tornado(rows: &[SensitivityRow]) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let label = |r: &SensitivityRow| format!("{} · {}", r.plant_id, r.input.label());
    let mut plot = Plot::new();
    let series: [(&str, Pick); 3] = [
        ("× 0.8", |r| r.perturbation == "x0.8"),
        ("× 1.2", |r| r.perturbation == "x1.2"),
        ("other replicate policy", |r| {
            r.input == Input::ReplicatePolicy
        }),
    ];
    for ((name, pick), color) in series.into_iter().zip(COLORS) {
        let sel: Vec<&SensitivityRow> = rows.iter().filter(|r| pick(r)).collect();
        if sel.is_empty() {
            continue;
        }
        // A base total of 0 has no relative change: drawn at 0, the table
        // beside says why.
        let x: Vec<f64> = sel
            .iter()
            .map(|r| r.change_relative.unwrap_or(0.0) * 100.0)
            .collect();
        let y: Vec<String> = sel.iter().map(|r| label(r)).collect();
        plot.add_trace(
            Bar::new(x, y)
                .orientation(Orientation::Horizontal)
                .name(name)
                .hover_template("%{fullData.name}<br>%{y}: %{x:.2f} %<extra></extra>")
                .marker(Marker::new().color(color)),
        );
    }
    let mut categories: Vec<String> = rows.iter().map(label).collect();
    categories.dedup();
    let layout = Layout::new()
        .margin(Margin::new().left(220).right(20).top(10).bottom(40))
        .height(80 + 34 * categories.len())
        .bar_mode(BarMode::Group)
        .x_axis(Axis::new().title(Title::with_text("change of the VALID total, %")));
    let json = charts::finish(plot, layout);
    // The threshold as two dashed lines across the plot.
    let mut v: serde_json::Value = serde_json::from_str(&json).ok()?;
    let pct = THRESHOLD_RELATIVE * 100.0;
    let line = |x: f64| {
        serde_json::json!({
            "type": "line", "xref": "x", "yref": "paper",
            "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": "#c62828", "dash": "dash", "width": 1}
        })
    };
    if let Some(l) = v.get_mut("layout").and_then(|l| l.as_object_mut()) {
        l.insert("shapes".into(), serde_json::json!([line(-pct), line(pct)]));
        // The table's order top to bottom (plotly.rs has no setter for it).
        l.insert(
            "yaxis".into(),
            serde_json::json!({"autorange": "reversed", "automargin": true}),
        );
    }
    Some(v.to_string())
}

#[component]
pub fn SensitivityPanel(#[prop(into)] filter: Signal<Filter>) -> impl IntoView {
    let s = expect_context::<Session>();
    let rows = Memo::new(move |_| {
        let f = filter.get();
        s.report
            .with(|r| {
                r.as_ref()
                    .map(|r| crew_mrv_core::method::sensitivity::table(r, &f))
            })
            .unwrap_or_default()
    });
    let plot = Signal::derive(move || rows.with(|r| tornado(r)));
    let sensitive = move || {
        rows.with(|rows| {
            let mut v: Vec<String> = rows
                .iter()
                .filter(|r| r.sensitive)
                .map(|r| format!("{} {}", r.plant_id, r.input.as_str()))
                .collect();
            v.dedup();
            if v.is_empty() {
                "No input moves the VALID total by more than 1 %.".to_string()
            } else {
                format!("Sensitive (more than 1 %): {}.", v.join(", "))
            }
        })
    };
    view! {
        <section class="sensitivity" data-testid="sensitivity" aria-labelledby="sens-h">
            <div class="panel-head">
                <h3 id="sens-h">"Sensitivity (METHOD §7)"</h3>
                <div class="actions">
                    <button class="button" data-testid="download-sensitivity"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::Sensitivity, &filter.get_untracked())>"sensitivity.csv"</button>
                </div>
            </div>
            <p class="note">"Each input scaled by 0.8 and 1.2 (and the other replicate policy), every day re-evaluated with its flags; the bars show how much the VALID total moves. Dashed lines: the 1 % threshold. "
                <span data-testid="sensitive-inputs">{sensitive}</span>
            </p>
            <Chart plot=plot title="Sensitivity of the VALID total (tornado)" testid="chart-sensitivity" unit="%" />
            <div class="table-wrap">
                <table class="results stack" data-testid="sensitivity-table">
                    <thead>
                        <tr>
                            <th scope="col">"Plant"</th>
                            <th scope="col">"Input"</th>
                            <th scope="col">"Perturbation"</th>
                            <th scope="col" class="num">"Total t"</th>
                            <th scope="col" class="num">"Change t"</th>
                            <th scope="col" class="num">"Change %"</th>
                            <th scope="col">"Sensitive"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || rows.get().into_iter().map(|r| view! {
                            <tr data-testid="sensitivity-row">
                                <td data-label="Plant">{r.plant_id.to_string()}</td>
                                <td data-label="Input">{r.input.label()}</td>
                                <td data-label="Perturbation">{r.perturbation.clone()}</td>
                                <td class="num" data-label="Total t">{format!("{:.3}", r.total_t)}</td>
                                <td class="num" data-label="Change t">{format!("{:+.3}", r.change_t)}</td>
                                <td class="num" data-label="Change %">{fmt_num(r.change_relative.map(|x| x * 100.0), 2)}</td>
                                <td data-label="Sensitive">{if r.sensitive { "yes" } else { "no" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
