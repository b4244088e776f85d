//! The Report tab: the period table (month or quarter × plant) a manager
//! shares, its cumulative CO2 chart, its CSV, and a page that prints whole.
//! The worker computes the table with the core (`period_report`) and
//! writes the CSV, so both are what `crew-mrv report` gives.

use leptos::prelude::*;
use leptos::task::spawn_local;
use plotly::common::Mode;
use plotly::{Plot, Scatter};

use crew_mrv_core::export::Output;
use crew_mrv_core::model::Flag;
use crew_mrv_core::period::{range_label, Period, PeriodReport};
use crew_mrv_core::Filter;

use super::charts::{self, Chart};
use super::{bridge, Session};
use crate::markup::escape;

/// Each plant's VALID total so far, day by day: a line per plant, told
/// apart by dash as well as colour.
fn cumulative_chart(t: &PeriodReport) -> Option<String> {
    let mut plot = Plot::new();
    for (i, (plant, points)) in t.cumulative.iter().enumerate() {
        if points.is_empty() {
            continue;
        }
        let x: Vec<String> = points.iter().map(|(d, _)| d.to_string()).collect();
        let y: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
        plot.add_trace(
            Scatter::new(x, y)
                .name(plant)
                .mode(Mode::Lines)
                .line(
                    plotly::common::Line::new()
                        .color(charts::SERIES_COLORS[i % charts::SERIES_COLORS.len()])
                        .dash(charts::plant_dash(i)),
                )
                .hover_template(charts::hover("t CO2 so far", 3)),
        );
    }
    if plot.data().is_empty() {
        return None;
    }
    let span = t.from.zip(t.to);
    Some(charts::finish(
        plot,
        charts::base_layout("CO2 removed so far (t CO2, VALID days)", span),
    ))
}

/// The table's rows as markup: one string instead of a typed view per
/// cell, which cost the page 30 KB of gzipped wasm for a read-only table.
/// Every text is escaped.
fn rows_html(t: &PeriodReport) -> String {
    use std::fmt::Write as _;
    let mut h = String::new();
    for r in &t.rows {
        let period = escape(&r.period);
        let plant = escape(r.plant_id.as_ref());
        let _ = write!(
            h,
            "<tr data-testid=\"report-row\" data-period=\"{period}\" data-plant=\"{plant}\">\
             <td class=\"nowrap\" title=\"{} to {}\">{period}</td><td>{plant}</td>\
             <td class=\"num\" data-testid=\"report-valid\">{:.3}</td>\
             <td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td>",
            r.first, r.last, r.co2_valid_t, r.co2_certified_t, r.co2_conservative_t, r.plant_days
        );
        for f in Flag::ALL {
            let n = r.days_by_flag.get(&f).copied().unwrap_or(0);
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        let _ = write!(
            h,
            "<td class=\"num\">{:.1} % of {} days</td><td class=\"num\">{:.1} %</td></tr>",
            r.coverage_percent, r.calendar_days, r.reviewed_percent
        );
    }
    h
}

fn inputs_html(t: &PeriodReport) -> String {
    t.inputs
        .iter()
        .map(|(name, sha)| {
            format!(
                "<li><code class=\"hash\">{}</code> {}</li>",
                escape(sha),
                escape(name)
            )
        })
        .collect()
}

fn now_text() -> String {
    let d = js_sys::Date::new_0();
    String::from(d.to_iso_string())
        .get(..16)
        .map(|s| format!("{} UTC", s.replace('T', " ")))
        .unwrap_or_default()
}

#[component]
pub fn ReportView() -> impl IntoView {
    let s = expect_context::<Session>();
    let by = RwSignal::new(Period::Month);
    let table = RwSignal::new(None::<PeriodReport>);
    let failed = RwSignal::new(None::<String>);
    let generated = RwSignal::new(String::new());
    // The whole batch: a period report is shared as the record of every
    // day, whatever the dashboard's filter shows at the moment.
    Effect::new(move |_| {
        let period = by.get();
        s.generation.track();
        let answer = bridge::period_report(period, Filter::default());
        spawn_local(async move {
            let got = answer.await;
            // The tab may be gone by the time the answer comes.
            match got {
                Ok(t) => {
                    let _ = table.try_set(Some(t));
                    let _ = failed.try_set(None);
                    let _ = generated.try_set(now_text());
                }
                Err(e) => {
                    let _ = failed.try_set(Some(e.to_string()));
                }
            }
        });
    });
    let plot = Signal::derive(move || table.with(|t| t.as_ref().and_then(cumulative_chart)));
    let range = move || {
        table.with(|t| {
            t.as_ref().map(|t| match (t.from, t.to) {
                (Some(a), Some(b)) => format!("{}, {} plants", range_label(a, b), t.plants.len()),
                _ => "No days".to_string(),
            })
        })
    };
    // What the chart's PNG and summary say it covers: the whole batch.
    let context = Signal::derive(move || {
        table.with(|t| {
            t.as_ref()
                .map(|t| {
                    let plants = t.plants.iter().map(|p| p.to_string()).collect::<Vec<_>>();
                    let total: f64 = t.rows.iter().map(|r| r.co2_valid_t).sum();
                    vec![
                        match (t.from, t.to) {
                            (Some(a), Some(b)) => range_label(a, b),
                            _ => "No days".to_string(),
                        },
                        plants.join(", "),
                        format!("total {total:.3} t CO2 (VALID days)"),
                    ]
                })
                .unwrap_or_default()
        })
    });
    let choice = move |p: Period, label: &'static str| {
        view! {
            <button type="button" class="button small" data-testid=format!("report-by-{}", p.as_str())
                class:primary=move || by.get() == p
                aria-pressed=move || (by.get() == p).to_string()
                on:click=move |_| by.set(p)>{label}</button>
        }
    };
    view! {
        <section class="report-view" data-testid="report-view">
            <header class="report-head">
                <h2>{move || format!("CO2 removal report by {}", by.get())}</h2>
                <dl class="report-meta">
                    <dt>"Range"</dt><dd data-testid="report-range">{range}</dd>
                    <dt>"Plants"</dt><dd data-testid="report-plants">{move || table.with(|t| t.as_ref().map(|t| t.plants.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")))}</dd>
                    <dt>"Method"</dt><dd data-testid="report-method">{move || table.with(|t| t.as_ref().map(|t| t.method_version.clone()))}</dd>
                    <dt>"Generated"</dt><dd data-testid="report-generated">{move || generated.get()}</dd>
                </dl>
            </header>
            <div class="report-controls no-print">
                <span class="label">"Rows per "</span>
                {choice(Period::Month, "By month")}
                {choice(Period::Quarter, "By quarter")}
                <button type="button" class="button primary" data-testid="download-report"
                    on:click=move |_| super::download_output(s, Output::PeriodReport(by.get_untracked()), &Filter::default())>"Download CSV"</button>
                <button type="button" class="button" data-testid="print-report"
                    on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>"Print / PDF"</button>
            </div>
            {move || failed.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="table-wrap report-table-wrap">
                <table class="results report-table" data-testid="report-table">
                    <thead>
                        <tr>
                            <th scope="col">"Period"</th>
                            <th scope="col">"Plant"</th>
                            <th scope="col" class="num">"CO2 VALID (t)"</th>
                            <th scope="col" class="num">"Certified (t)"</th>
                            <th scope="col" class="num">"Conservative (t)"</th>
                            <th scope="col" class="num">"Plant-days"</th>
                            {Flag::ALL.into_iter().map(|f| view! {
                                <th scope="col" class="num" title=f.as_str()>{f.words()}</th>
                            }).collect_view()}
                            <th scope="col" class="num" title="VALID plant-days with a CO2 figure, of the calendar days">"Coverage"</th>
                            <th scope="col" class="num" title="Plant-days approved or rejected by a reviewer">"Reviewed"</th>
                        </tr>
                    </thead>
                    <tbody inner_html=move || table.with(|t| t.as_ref().map(rows_html).unwrap_or_default())></tbody>
                </table>
            </div>
            <div class="charts report-charts">
                <Chart plot=plot title="Cumulative CO2 removed (t CO2, VALID days)" testid="chart-cumulative" unit="t CO2" context=context />
            </div>
            <section class="report-inputs">
                <h3>"Inputs (SHA-256)"</h3>
                <ul data-testid="report-inputs" inner_html=move || table.with(|t| t.as_ref().map(inputs_html).unwrap_or_default())></ul>
            </section>
        </section>
    }
}
