//! The MRV dashboard: filters, key figures, charts, the daily table and
//! downloads. Key figures come from `Kpis::of` over the core's filtered
//! days, exactly what `summary.json` reports for the same filter.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use leptos::prelude::*;

use super::charts::{self, Chart};
use super::review::{self, status_text};
use super::sensitivity_panel::SensitivityPanel;
use super::{bridge, day_sheet, fmt_num, Session};
use crew_mrv_core::model::{Co2Day, DayReviewStatus, Flag, Severity};
use crew_mrv_core::profile::Unit;
use crew_mrv_core::CheckId;
use crew_mrv_core::Kpis;

const PAGE: usize = 25;

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Date,
    Plant,
    Flag,
    Co2,
    Delta,
    Flow,
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let s = expect_context::<Session>();
    let sheet = expect_context::<day_sheet::SheetState>();
    let filter = Memo::new(move |_| s.filter());
    let plants = Memo::new(move |_| {
        s.report
            .with(|r| {
                r.as_ref()
                    .map(|r| r.plants().iter().map(|p| p.to_string()).collect::<Vec<_>>())
            })
            .unwrap_or_default()
    });
    let span = Memo::new(move |_| s.report.with(|r| r.as_ref().and_then(|r| r.date_span())));
    // Each plant-day's findings, for its badges, its tooltip and the
    // "needs review" filter.
    let day_findings = Memo::new(move |_| {
        s.report.with(|r| {
            let mut m: BTreeMap<(String, NaiveDate), DayQa> = BTreeMap::new();
            for f in r.iter().flat_map(|r| r.findings.iter()) {
                let (Some(p), Some(d)) = (f.plant_id.as_deref(), f.date) else {
                    continue;
                };
                let e = m.entry((p.to_string(), d)).or_default();
                let i = match f.severity {
                    Severity::Error => 0,
                    Severity::Warning => 1,
                    _ => 2,
                };
                if let Some(c) = e.counts.get_mut(i) {
                    *c += 1;
                }
                e.messages.push(format!(
                    "{} · {}: {}",
                    f.severity.as_str(),
                    f.check.as_str(),
                    f.message
                ));
                e.needs_review |= f.level == 5
                    || matches!(
                        f.check,
                        CheckId::Bypass | CheckId::RevisedFlow | CheckId::ReplicateSpread
                    );
            }
            m
        })
    });
    let needs_review = RwSignal::new(false);
    let days = Memo::new(move |_| {
        let f = filter.get();
        let only = needs_review.get();
        s.report
            .with(|r| {
                r.as_ref().map(|r| {
                    r.days(&f)
                        .filter(|d| {
                            !only
                                || day_findings.with(|m| {
                                    m.get(&(d.plant_id.to_string(), d.date))
                                        .is_some_and(|q| q.needs_review)
                                })
                        })
                        .cloned()
                        .collect::<Vec<Co2Day>>()
                })
            })
            .unwrap_or_default()
    });
    let kpis = Memo::new(move |_| days.with(|d| Kpis::of(d.iter())));
    let note = RwSignal::new(String::new());
    let qa_of = move |d: &Co2Day| {
        day_findings
            .with_untracked(|m| m.get(&(d.plant_id.to_string(), d.date)).cloned())
            .unwrap_or_default()
    };
    let qa_id = |d: &Co2Day| format!("qa-{}-{}", d.plant_id, d.date);
    let decide = move |days: Vec<Co2Day>, status: DayReviewStatus| match review::decide(
        s,
        &days,
        status,
        &note.get_untracked(),
    ) {
        Ok(_) => note.set(String::new()),
        Err(e) => s.notice.set(Some(e)),
    };
    // METHOD §7's period figures for the same filter, all plants together
    // (one plant when the filter picks one).
    let unc = Memo::new(move |_| {
        let f = filter.get();
        s.report.with(|r| {
            r.as_ref()
                .map(|r| crew_mrv_core::method::uncertainty::period(r, &f).all)
        })
    });
    let unc_text =
        move |f: fn(&crew_mrv_core::method::uncertainty::PeriodUncertainty) -> String| {
            unc.with(|u| u.as_ref().map(f).unwrap_or_default())
        };
    let shown_plants = Memo::new(move |_| match s.plant.get() {
        Some(p) => vec![p],
        None => plants.get(),
    });

    // Every time chart spans the same dates: the filter's, its open ends
    // closed by the loaded days.
    let chart_span = Memo::new(move |_| {
        span.get().map(|(a, b)| {
            let (from, to) = (s.from.get().unwrap_or(a), s.to.get().unwrap_or(b));
            if from <= to {
                (from, to)
            } else {
                (a, b)
            }
        })
    });
    // What a chart's summary and PNG say it shows: the range and plants
    // the totals are for, the flags when some are left out, the total.
    let chart_context = Signal::derive(move || {
        let f = filter.get();
        let mut parts: Vec<String> = s.report.with(|r| {
            r.as_ref()
                .and_then(|r| crew_mrv_core::period::applied_range(r, &f).ok())
                .into_iter()
                .collect()
        });
        parts.push(shown_plants.get().join(", "));
        if let Some(flags) = &f.flags {
            let words: Vec<&str> = flags.iter().map(|f| f.words()).collect();
            parts.push(format!("flags: {}", words.join(", ")));
        }
        parts.push(format!(
            "total {:.3} t CO2 (VALID days)",
            kpis.with(|k| k.co2_removed_t)
        ));
        parts
    });
    // Charts: the rows already filtered by the core; the UI only picks
    // columns to draw.
    let co2_plot = Signal::derive(move || {
        days.with(|d| {
            charts::co2_chart(
                &d.iter().collect::<Vec<_>>(),
                &shown_plants.get(),
                chart_span.get(),
            )
        })
    });
    let delta_plot = Signal::derive(move || {
        days.with(|d| {
            charts::delta_chart(
                &d.iter().collect::<Vec<_>>(),
                &shown_plants.get(),
                chart_span.get(),
            )
        })
    });
    let ca_plot = Signal::derive(move || {
        days.with(|d| {
            charts::ca_chart(
                &d.iter().collect::<Vec<_>>(),
                &shown_plants.get(),
                chart_span.get(),
            )
        })
    });
    let flow_unit = Memo::new(move |_| {
        let f = filter.get();
        s.report.with(|r| {
            r.as_ref().map_or(Unit::Mgd, |r| {
                let ops: Vec<_> = r.operations(&f).collect();
                charts::flow_unit(&ops, &shown_plants.get())
            })
        })
    });
    let flow_plot = Signal::derive(move || {
        let f = filter.get();
        s.report.with(|r| {
            r.as_ref().and_then(|r| {
                let ops: Vec<_> = r.operations(&f).collect();
                charts::flow_chart(&ops, &shown_plants.get(), chart_span.get(), flow_unit.get())
            })
        })
    });
    let flow_title = Signal::derive(move || match flow_unit.get() {
        Unit::M3PerDay => "Effluent flow with bypass (m³/d)",
        Unit::MlPerDay => "Effluent flow with bypass (ML/d)",
        _ => "Effluent flow with bypass (MGD)",
    });
    let flow_label = Signal::derive(move || charts::flow_unit_label(flow_unit.get()));
    // Zoomed into a short range, the pH chart shows the readings themselves
    // (bucketed to at most 2,000 points per unit) fetched from the worker.
    // The zoom is a window the user picked; new files, another policy or
    // another plant under it fetch that window again, so a removed file's
    // readings do not linger. A newer zoom supersedes an older one: the
    // resource keeps only its latest fetch.
    let zoom = RwSignal::new(None::<(NaiveDateTime, NaiveDateTime)>);
    let on_zoom = Callback::new(move |range: Option<(String, String)>| {
        let range = range.and_then(|(a, b)| {
            Some((
                crew_mrv_core::parse_datetime(&a)?,
                crew_mrv_core::parse_datetime(&b)?,
            ))
        });
        zoom.set(range.filter(|(a, b)| (*b - *a) <= chrono::Duration::days(14)));
    });
    let zoom_key = Memo::new(move |_| (zoom.get(), s.generation.get(), s.plant.get()));
    let readings = LocalResource::new(move || {
        let key = zoom_key.get();
        let (window, _, plant) = key.clone();
        let units: Vec<(String, String)> = match window {
            None => Vec::new(),
            Some(_) => s.report.with_untracked(|r| {
                r.as_ref()
                    .map(|r| {
                        r.ph_units(plant.as_deref())
                            .into_iter()
                            .map(|(p, u)| (p.to_string(), u.to_string()))
                            .collect()
                    })
                    .unwrap_or_default()
            }),
        };
        // Every unit's request leaves now; the answers are awaited together.
        let asked: Vec<_> = window
            .map(|(from, to)| {
                units
                    .into_iter()
                    .map(|(p, u)| {
                        let points = bridge::sensor_points(p.clone(), u.clone(), from, to, 2000);
                        (p, u, points)
                    })
                    .collect()
            })
            .unwrap_or_default();
        async move {
            let mut all = Vec::with_capacity(asked.len());
            for (p, u, points) in asked {
                all.push((p, u, points.await?));
            }
            all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            Ok::<_, bridge::CallError>((key, all))
        }
    });
    // `None`: the daily means. `Some([])`: readings asked for, not all
    // arrived (shown once every unit has answered: a unit with no readings
    // in the window, drawn alone, would blank the chart in between). A
    // failed fetch stays loading: after a worker restart the new report
    // asks again.
    let ph_detail = Memo::new(move |_| {
        let key = zoom_key.get();
        key.0?;
        let units = s.report.with(|r| {
            r.as_ref()
                .map(|r| r.ph_units(key.2.as_deref()).len())
                .unwrap_or(0)
        });
        if units == 0 {
            return None;
        }
        let fetched = readings.with(|r| match r {
            Some(Ok((k, all))) if *k == key => Some(all.clone()),
            _ => None,
        });
        Some(fetched.unwrap_or_default())
    });
    let ph_note = Signal::derive(move || {
        ph_detail.with(|d| match d.as_deref() {
            None => None,
            Some([]) => Some("loading readings…"),
            Some(all) if all.iter().all(|(_, _, p)| p.is_empty()) => {
                Some("no readings in this window: daily means")
            }
            Some(_) => Some("readings"),
        })
    });
    let ph_plot = Signal::derive(move || {
        // No readings in the zoomed window: the daily chart stays, so there
        // is still a chart to zoom back out of.
        if let Some(chart) = ph_detail.with(|d| d.as_deref().and_then(charts::ph_detail_chart)) {
            return Some(chart);
        }
        let f = filter.get();
        s.report.with(|r| {
            r.as_ref().and_then(|r| {
                let sel: Vec<_> = r.ph_days(&f).collect();
                charts::ph_chart(&sel, chart_span.get())
            })
        })
    });

    // Table state.
    let sort = RwSignal::new((SortBy::Date, true));
    let page = RwSignal::new(0usize);
    Effect::new(move |_| {
        days.track();
        page.set(0);
    });
    let sorted = Memo::new(move |_| {
        let (by, asc) = sort.get();
        let mut v = days.get();
        let key = |d: &Co2Day| -> (Option<f64>, String) {
            match by {
                SortBy::Co2 => (
                    d.calc.map(|c| c.co2_removed_metric_tons_per_day),
                    String::new(),
                ),
                SortBy::Delta => (d.calc.map(|c| c.ca_delta_mg_per_l), String::new()),
                SortBy::Flow => (d.flow_mgd, String::new()),
                SortBy::Plant => (None, d.plant_id.to_string()),
                SortBy::Flag => (None, d.quality_flag.as_str().to_string()),
                SortBy::Date => (None, d.date.to_string()),
            }
        };
        v.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            // Blank values stay last in both directions.
            match (ka.0, kb.0) {
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                _ => {}
            }
            let o = match (ka.0, kb.0) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => ka.1.cmp(&kb.1),
            };
            let o = o.then_with(|| (a.date, &a.plant_id).cmp(&(b.date, &b.plant_id)));
            if asc {
                o
            } else {
                o.reverse()
            }
        });
        v
    });
    let pages = move || sorted.with(|v| v.len().div_ceil(PAGE).max(1));
    let visible = move || {
        let p = page.get();
        sorted.with(|v| {
            v.iter()
                .skip(p * PAGE)
                .take(PAGE)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let header = move |label: &'static str, by: SortBy, class: &'static str| {
        view! {
            <th scope="col" class=class aria-sort=move || {
                let (b, asc) = sort.get();
                if b == by { if asc { "ascending" } else { "descending" } } else { "none" }
            }>
                <button class="sort" on:click=move |_| sort.update(|(b, asc)| {
                    if *b == by { *asc = !*asc } else { *b = by; *asc = true }
                })>
                    {label}
                    {move || { let (b, asc) = sort.get(); if b == by { if asc { " ▲" } else { " ▼" } } else { "" } }}
                </button>
            </th>
        }
    };

    view! {
        <section class="panel" aria-labelledby="dash-h">
            <h2 id="dash-h" class="visually-hidden">"Dashboard"</h2>
            <form class="filters dash-filters" on:submit=|ev| ev.prevent_default()>
                <label>
                    "Plant "
                    <select data-testid="filter-plant"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            s.plant.set(if v.is_empty() { None } else { Some(v) });
                        }
                        prop:value=move || s.plant.get().unwrap_or_default()>
                        <option value="">"All plants"</option>
                        {move || plants.get().into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    "From "
                    <input type="date" data-testid="filter-from"
                        prop:min=move || span.get().map(|s| s.0.to_string()).unwrap_or_default()
                        prop:max=move || span.get().map(|s| s.1.to_string()).unwrap_or_default()
                        prop:value=move || s.from.get().map(|d| d.to_string()).unwrap_or_default()
                        on:change=move |ev| s.from.set(event_target_value(&ev).parse::<chrono::NaiveDate>().ok()) />
                </label>
                <label>
                    "To "
                    <input type="date" data-testid="filter-to"
                        prop:min=move || span.get().map(|s| s.0.to_string()).unwrap_or_default()
                        prop:max=move || span.get().map(|s| s.1.to_string()).unwrap_or_default()
                        prop:value=move || s.to.get().map(|d| d.to_string()).unwrap_or_default()
                        on:change=move |ev| s.to.set(event_target_value(&ev).parse::<chrono::NaiveDate>().ok()) />
                </label>
                <button type="button" class="button small" data-testid="filter-all-dates"
                    on:click=move |_| { s.from.set(None); s.to.set(None); }>"All dates"</button>
                <fieldset class="flags">
                    <legend>"Quality flags"</legend>
                    {Flag::ALL.into_iter().map(|f| view! {
                        <label class="flag">
                            <input type="checkbox" data-testid=format!("flag-{}", f.as_str())
                                prop:checked=move || s.flags.with(|x| x.contains(&f))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    s.flags.update(|x| { if on { x.insert(f); } else { x.remove(&f); } });
                                } />
                            <span class="swatch" style=format!("background:{}", charts::flag_color(f))></span>
                            <span title=f.as_str()>{f.words()}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
            </form>
            // Issue 16: the range behind every total, said beside them; an
            // inverted range is refused in words rather than shown as zeros.
            {move || {
                let f = filter.get();
                s.report.with(|r| r.as_ref().map(|r| crew_mrv_core::period::applied_range(r, &f)))
            }.map(|said| match said {
                Ok(text) => view! { <p class="range-note" data-testid="range-note">{text}</p> }.into_any(),
                Err(why) => view! { <p class="error" role="alert" data-testid="range-error">{why}</p> }.into_any(),
            })}

            <div class="kpis" data-testid="kpis">
                <div class="kpi primary">
                    <span class="label">"CO2 removed (VALID days)"</span>
                    <span class="value" data-testid="kpi-total">{move || format!("{:.3} t", kpis.get().co2_removed_t)}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-total-raw">{move || format!("{}", kpis.get().co2_removed_t)}</span>
                    <span class="sub" data-testid="kpi-sigma">{move || unc_text(|u| format!("± {:.3} t (1 σ, {:.1} %)", u.sigma_t, u.relative_uncertainty.unwrap_or(0.0) * 100.0))}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-sigma-raw">{move || unc_text(|u| format!("{}", u.sigma_t))}</span>
                </div>
                <div class="kpi primary creditable">
                    <span class="label">{move || format!("Creditable CO2 ({})", unc_text(|u| u.confidence.as_str().to_string()))}</span>
                    <span class="value" data-testid="kpi-conservative">{move || unc_text(|u| format!("{:.3} t", u.conservative_t))}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-conservative-raw">{move || unc_text(|u| format!("{}", u.conservative_t))}</span>
                    <span class="sub" data-testid="kpi-explain">{move || unc_text(|u| format!(
                        "Gross {:.3} ± {:.3} t less z = {} σ ({:.3} t), floored at 0: lab σ per day, the flow meter's σ correlated over the period (METHOD §7).",
                        u.total_t, u.sigma_t, u.z, u.uncertainty_discount_t
                    ))}</span>
                </div>
                <div class="kpi primary certified">
                    <span class="label">"Certified CO2 (VALID and approved)"</span>
                    <span class="value" data-testid="kpi-certified">{move || format!("{:.3} t", kpis.get().co2_certified_t)}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-certified-raw">{move || format!("{}", kpis.get().co2_certified_t)}</span>
                    <span class="sub" data-testid="kpi-reviews">{move || {
                        let k = kpis.get();
                        let n = |st| k.days_by_review.get(&st).copied().unwrap_or(0);
                        format!("{} approved · {} rejected · {} unreviewed · {} input changed",
                            n(DayReviewStatus::Approved), n(DayReviewStatus::Rejected),
                            n(DayReviewStatus::Unreviewed), n(DayReviewStatus::InputChanged))
                    }}</span>
                </div>
                <div class="kpi">
                    <span class="label">"Mean per VALID day"</span>
                    <span class="value" data-testid="kpi-mean">{move || format!("{} t/day", fmt_num(kpis.get().co2_removed_mean_t_per_day, 3))}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-mean-raw">{move || kpis.get().co2_removed_mean_t_per_day.map(|v| format!("{v}")).unwrap_or_default()}</span>
                </div>
                <div class="kpi">
                    <span class="label">"Mean Ca delta (VALID)"</span>
                    <span class="value" data-testid="kpi-delta">{move || format!("{} mg/L", fmt_num(kpis.get().ca_delta_mean_mg_per_l, 2))}</span>
                    <span class="raw visually-hidden" aria-hidden="true" data-testid="kpi-delta-raw">{move || kpis.get().ca_delta_mean_mg_per_l.map(|v| format!("{v}")).unwrap_or_default()}</span>
                </div>
                <div class="kpi">
                    <span class="label">"Plant-days monitored"</span>
                    <span class="value" data-testid="kpi-days">{move || kpis.get().days}</span>
                </div>
                <div class="kpi flags-kpi">
                    <span class="label">"Plant-days by flag"</span>
                    <ul>
                        {move || kpis.get().days_by_flag.into_iter().map(|(f, n)| view! {
                            <li data-testid=format!("kpi-flag-{}", f.as_str()) title=f.as_str()>
                                <span class="swatch" style=format!("background:{}", charts::flag_color(f))></span>
                                {format!("{}: {n}", f.words())}
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>

            <div class="charts">
                <Chart plot=co2_plot title="Daily CO2 removed (t CO2/day), by flag, ± 1 σ" testid="chart-co2" unit="t CO2/day" context=chart_context />
                <Chart plot=ph_plot title="pH per plant unit (daily means; zoom below two weeks for readings)" testid="chart-ph" unit="pH" context=chart_context zoomed=on_zoom note=ph_note />
                <Chart plot=ca_plot title="Calcium upstream vs downstream (mg/L)" testid="chart-ca" unit="mg/L" context=chart_context />
                <Chart plot=delta_plot title="Ca delta (mg/L)" testid="chart-delta" unit="mg/L" context=chart_context />
                <Chart plot=flow_plot title=flow_title testid="chart-flow" unit=flow_label context=chart_context />
            </div>

            <SensitivityPanel filter=filter />

            <div class="panel-head">
                <h3>"Daily results"</h3>
                <div class="actions">
                    <button class="button primary" data-testid="download-co2"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::Co2Removal, &filter.get_untracked())>"Download co2_removal.csv"</button>
                    <button class="button" data-testid="download-summary"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::Summary, &filter.get_untracked())>"summary.json"</button>
                    <button class="button" data-testid="download-reviews"
                        on:click=move |_| review::download(s)>"Decisions (reviews.csv)"</button>
                    <super::bundle::BundleButton filter=filter />
                </div>
            </div>
            <form class="filters review-bar" on:submit=|ev| ev.prevent_default()>
                <label>
                    <input type="checkbox" data-testid="filter-needs-review"
                        prop:checked=move || needs_review.get()
                        on:change=move |ev| needs_review.set(event_target_checked(&ev)) />
                    " Needs review only"
                </label>
                <label>
                    "Reviewer "
                    <input type="text" data-testid="reviewer" placeholder="your name"
                        prop:value=move || s.reviewer.get()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            review::save_reviewer(v.trim());
                            s.reviewer.set(v.trim().to_string());
                        } />
                </label>
                <label>
                    "Note "
                    <input type="text" data-testid="review-note" placeholder="required to reject"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev)) />
                </label>
                <button type="button" class="button small" data-testid="approve-valid-shown"
                    on:click=move |_| {
                        let valid: Vec<Co2Day> = days.get_untracked().into_iter().filter(|d| d.quality_flag == Flag::Valid && d.calc.is_some()).collect();
                        decide(valid, DayReviewStatus::Approved);
                    }>"Approve all VALID days shown"</button>
            </form>
            <div class="table-wrap">
                <table class="results stack sortable" data-testid="results-table">
                    <thead>
                        <tr>
                            {header("Date", SortBy::Date, "")}
                            {header("Plant", SortBy::Plant, "")}
                            {header("Flag", SortBy::Flag, "")}
                            <th scope="col" class="num">"Ca up"</th>
                            <th scope="col" class="num">"Ca down"</th>
                            {header("Δ Ca", SortBy::Delta, "num")}
                            {header("Flow (plant's unit)", SortBy::Flow, "num")}
                            {header("CO2 t/day", SortBy::Co2, "num")}
                            <th scope="col">"QA"</th>
                            <th scope="col">"Review"</th>
                            <th scope="col">"Message"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=visible key=|d| (d.plant_id.clone(), d.date, d.quality_flag, d.validation_message.clone(), d.calc.map(|c| c.co2_removed_metric_tons_per_day.to_bits()), d.review.status, d.review.note.clone()) let:d>
                            <tr class=format!("flag-{} opens", d.quality_flag.as_str()) data-testid="result-row"
                                data-plant=d.plant_id.to_string() data-date=d.date.to_string() data-review=d.review.status.as_str()
                                tabindex="-1" title="Open the calculation sheet"
                                on:click={ let (p, date) = (d.plant_id.to_string(), d.date); move |_| day_sheet::open(sheet, p.clone(), date) }
                                on:keydown={ let (p, date) = (d.plant_id.to_string(), d.date); move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Enter" || ev.key() == " " {
                                        ev.prevent_default();
                                        day_sheet::open(sheet, p.clone(), date);
                                    }
                                } }>
                                <td class="nowrap" data-label="Date">{d.date.to_string()}</td>
                                <td data-label="Plant">{d.plant_id.to_string()}</td>
                                <td data-label="Flag"><span class="flag-badge" data-flag=d.quality_flag.as_str() title=d.quality_flag.as_str() style=format!("border-color:{}", charts::flag_color(d.quality_flag))>{d.quality_flag.words()}</span></td>
                                <td class="num" data-label="Ca up">{fmt_num(d.ca_upstream_mg_per_l, 2)}</td>
                                <td class="num" data-label="Ca down">{fmt_num(d.ca_downstream_mg_per_l, 2)}</td>
                                <td class="num" data-label="Δ Ca">{fmt_num(d.calc.map(|c| c.ca_delta_mg_per_l), 2)}</td>
                                <td class="num nowrap" data-label="Flow" data-testid="day-flow">{flow_text(&d)}</td>
                                <td class="num" data-label="CO2 t/day">{fmt_num(d.calc.map(|c| c.co2_removed_metric_tons_per_day), 4)}</td>
                                <td data-label="QA" data-testid="qa-badges">{qa_badges(qa_of(&d), qa_id(&d))}</td>
                                <td data-label="Review" class="review-cell">
                                    <span class=format!("review {}", d.review.status.as_str()) data-testid="review-status"
                                        title=d.review.note.clone()>{status_text(d.review.status)}</span>
                                    {(!d.review.note.is_empty()).then(|| view! { <span class="muted review-note">{format!(" · {}", d.review.note)}</span> })}
                                    // The day's findings and its decision share one fold:
                                    // a keyboard user tabs once per day through the table.
                                    // A click or key inside the fold is the fold's, not the row's.
                                    <details class="review-actions"
                                        on:click=|ev| ev.stop_propagation()
                                        on:keydown=|ev| ev.stop_propagation()>
                                        {{
                                            let (msgs, id) = (qa_of(&d).messages, qa_id(&d));
                                            let label = if msgs.is_empty() { "decide" } else { "findings · decide" };
                                            view! {
                                                <summary data-testid="review-open" aria-describedby=(!msgs.is_empty()).then(|| id.clone())>{label}</summary>
                                                {(!msgs.is_empty()).then(|| view! {
                                                    <ul id=id.clone() class="qa-detail" data-testid="qa-messages">
                                                        {msgs.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view()}
                                                    </ul>
                                                })}
                                            }
                                        }}
                                        {
                                            let (a, b) = (d.clone(), d.clone());
                                            view! {
                                                <button class="button small" data-testid="approve" on:click=move |_| decide(vec![a.clone()], DayReviewStatus::Approved)>"Approve"</button>
                                                <button class="button small" data-testid="reject" on:click=move |_| decide(vec![b.clone()], DayReviewStatus::Rejected)>"Reject"</button>
                                                // The row itself is no tab stop (one per day is the fold), so
                                                // keyboard users open the sheet from here.
                                                <button class="button small" data-testid="open-sheet" on:click={ let (p, date) = (d.plant_id.to_string(), d.date); move |_| day_sheet::open(sheet, p.clone(), date) }>"Calculation sheet"</button>
                                            }
                                        }
                                    </details>
                                </td>
                                <td class="msg wide">{d.validation_message.clone()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            <div class="pager">
                <button class="button small" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ Previous"</button>
                <span data-testid="results-page">{move || format!("Page {} of {} · {} plant-days", page.get() + 1, pages(), sorted.with(Vec::len))}</span>
                <button class="button small" disabled=move || { page.get() + 1 >= pages() } on:click=move |_| page.update(|p| *p += 1)>"Next ›"</button>
            </div>
        </section>
    }
}

/// A plant-day's findings: counts (errors, warnings, infos), the messages.
#[derive(Clone, Default, PartialEq)]
struct DayQa {
    counts: [usize; 3],
    messages: Vec<String>,
    needs_review: bool,
}

/// A badge per severity with its count; the messages on hover and, for
/// keyboard and screen readers, in the row's fold (`id`), which they
/// describe.
fn qa_badges(q: DayQa, id: String) -> impl IntoView {
    let title = q.messages.join("\n");
    let badges = [("error", "E"), ("warning", "W"), ("info", "i")]
        .into_iter()
        .zip(q.counts)
        .filter(|(_, n)| *n > 0)
        .map(|((sev, letter), n)| {
            view! {
                <span class=format!("sev {sev} qa-badge") data-testid=format!("badge-{sev}")
                    title=title.clone() aria-describedby=id.clone()>{format!("{n} {letter}")}</span>
            }
        })
        .collect_view();
    badges
}

/// A day's flow in the unit the plant reports it in, naming the unit
/// (PROFILES.md: flows keep the unit they were read in).
fn flow_text(d: &Co2Day) -> String {
    use crew_mrv_core::profile::Unit;
    let unit = d.flow_unit.unwrap_or(Unit::Mgd);
    let digits = if unit == Unit::M3PerDay { 0 } else { 3 };
    match d.flow_mgd {
        Some(v) => format!(
            "{} {}",
            fmt_num(Some(crew_mrv_core::mapping::in_unit(v, unit)), digits),
            unit.as_str()
        ),
        None => fmt_num(None, 0),
    }
}
