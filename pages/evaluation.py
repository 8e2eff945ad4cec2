"""Evaluation: compare representations on held-out interactions, fairly, with 95% confidence intervals."""

import plotly.graph_objects as go
import streamlit as st

from core.catalog.interactions import load_interactions, read_upload
from core.evaluation.baselines import evaluation_choices
from core.evaluation.metrics import metric_label
from core.evaluation.report import evaluate_to_workspace, per_shopper_csv, report_stem, to_json, to_markdown
from core.evaluation.result import VERDICT_LABELS, comparison_table
from core.evaluation.splits import SPLIT_HELP, SPLITS
from core.evaluation.sweep import METRICS as SWEEP_METRICS
from core.evaluation.sweep import read_sweeps
from ui.shopper_link import ShopperLink
from ui.state import get_lab, user_errors
from ui.text import plain, safe_frame

RESULT_KEY = "evaluation_result"
WORKSPACE_SOURCE, UPLOAD_SOURCE = "Workspace interactions.csv", "Upload a file"

st.title("Evaluation")
st.caption("Every method ranks the same candidate pool for the same shoppers, with their history excluded. "
           "Splits, tie order, the random baseline and the bootstrap all follow one seed.")

lab = get_lab()
with user_errors():
    choices = evaluation_choices(lab)
    with st.form("evaluate"):
        left, right = st.columns(2)
        with left:
            source = st.radio("Interactions", [WORKSPACE_SOURCE, UPLOAD_SOURCE], horizontal=True)
            upload = st.file_uploader("CSV (shopper_id,sku,timestamp[,rating]), MMRec .inter or Amazon .jsonl",
                                      type=["csv", "inter", "json", "jsonl", "gz"])
            split = st.selectbox("Split", SPLITS, format_func=lambda s: f"{s}: {SPLIT_HELP[s]}")
        with right:
            chosen = st.multiselect("Representations", choices.options, default=choices.defaults,
                                    help="Preselected: methods covering the whole catalogue. Fusions: concat = "
                                         "joined vectors, mean = mean of cosines, weighted = weight tuned on the "
                                         "validation split only.")
            if choices.excluded:
                st.caption("Not preselected: they cover only part of the catalogue, and comparing one shrinks every "
                           "method's candidate pool to the SKUs it covers.")
                st.text("\n".join(c.text() for c in choices.excluded))
            ks = st.multiselect("Cut-offs K", [1, 3, 5, 10, 20, 50, 100], default=[5, 10, 20])
            seed = st.number_input("Seed", min_value=0, value=0, step=1)
        run = st.form_submit_button("Run evaluation", type="primary")

    if run:
        st.session_state.pop(RESULT_KEY, None)  # a refused run must not leave an older result on screen
        if source == UPLOAD_SOURCE and upload is None:
            st.error("Choose a file to upload, or use the workspace's interactions.csv.")
        else:
            with st.status("Evaluating…", expanded=True) as status:
                bar = st.progress(0.0, text="loading interactions")

                def step(done: int, total: int, label: str) -> None:
                    bar.progress(done / max(total, 1), text=label)

                interactions = (read_upload(upload.name, upload.getvalue()) if upload is not None
                                and source == UPLOAD_SOURCE else load_interactions(lab.workspace))
                fresh = evaluate_to_workspace(lab, interactions, split=split, representations=chosen, ks=tuple(ks),
                                              seed=int(seed), progress=step)
                status.update(label=f"Evaluated {len(fresh.methods)} methods on {fresh.filter.shoppers_evaluated:,} "
                                    f"shoppers, pool {fresh.pool_size:,} of {fresh.catalogue_size:,} catalogue SKUs"
                                    f"{' (limited: see below)' if fresh.limited_by else ''} "
                                    f"({fresh.config['elapsed_s']:.1f} s)", state="complete", expanded=False)
            st.session_state[RESULT_KEY] = fresh

ev = st.session_state.get(RESULT_KEY)
if ev is not None:
    with user_errors():
        st.subheader("Results")
        if ev.limited_by:
            st.warning("The candidate pool is only part of the catalogue: every number below is about that part.")
        st.text(ev.pool_note())
        if ev.excluded:
            st.text("Left out:\n" + "\n".join(ev.excluded_lines()))
        st.text(f"Split {ev.config['split']}, seed {ev.seed}.\n{ev.filter.summary()}\n{ev.floors_text()}")
        st.dataframe(safe_frame(ev.table()), hide_index=True, width="stretch")
        st.caption("Cells: mean [95% bootstrap CI] n=shoppers. Coverage is catalogue-level (no interval). "
                   "MRR uses the full ranking.")
        stem = report_stem(ev)
        md_col, json_col, csv_col = st.columns(3)
        md_col.download_button("Download report (Markdown)", to_markdown(ev).encode(), file_name=f"{stem}.md",
                               mime="text/markdown", on_click="ignore", key="eval_download_md")
        json_col.download_button("Download report (JSON)", to_json(ev).encode(), file_name=f"{stem}.json",
                                 mime="application/json", on_click="ignore", key="eval_download_json")
        csv_col.download_button("Download per-shopper scores (CSV)", per_shopper_csv(ev),
                                file_name=f"{stem}-per-shopper.csv", mime="text/csv", on_click="ignore",
                                key="eval_download_csv")
        for name, t in ev.tuning.items():
            st.text(f"{name}: weight {t['weight']} tuned on validation {metric_label(t['metric'])}")

        per_user_metrics = [m for m in ev.metrics if not m.startswith("coverage")]
        metric = st.selectbox("Metric", per_user_metrics, index=per_user_metrics.index(ev.primary_metric),
                              format_func=metric_label)
        rows = ev.summary[ev.summary["metric"] == metric].set_index("method").loc[ev.methods]
        fig = go.Figure(go.Bar(x=rows.index, y=rows["mean"], error_y={
            "type": "data", "symmetric": False, "array": rows["hi"] - rows["mean"],
            "arrayminus": rows["mean"] - rows["lo"]}))
        fig.update_layout(yaxis_title=f"{metric_label(metric)} (95% CI)", margin={"t": 20}, height=380)
        st.plotly_chart(fig, width="stretch")

        st.subheader("By category")
        st.caption("Shoppers grouped by the category of their test items (the most frequent one).")
        st.dataframe(safe_frame(ev.category_table(metric)), hide_index=True, width="stretch")

        st.subheader("Paired comparison")
        a_default, b_default = ev.default_pair()
        ca, cb = st.columns(2)
        a = ca.selectbox("A", ev.methods, index=ev.methods.index(a_default))
        b = cb.selectbox("B", ev.methods, index=ev.methods.index(b_default))
        if a == b:
            st.info("Pick two different methods to compare.")
        else:
            family = ev.comparisons(a, metric)
            paired = next(p for p in family if p.b == b)
            st.metric(plain(f"A − B on {metric_label(metric)}"), f"{paired.diff.mean:+.3f}",
                      delta=VERDICT_LABELS[paired.verdict], delta_color="off")
            st.text(paired.sentence())
            st.caption(f"A against each of the other {len(family)} methods: one family, Holm–Bonferroni corrected "
                       "together, so picking the best-looking B cannot manufacture a win.")
            st.dataframe(safe_frame(comparison_table(family)), hide_index=True, width="stretch")

            st.subheader("Where A and B disagree most")
            worst = ev.disagreements(a, b, metric, n=10)
            if worst.empty:
                st.caption("A and B score every shopper the same.")
            for row in worst.to_dict("records"):
                c1, c2 = st.columns([4, 1])
                c1.text(f"{row['shopper_id']}: A {row[a]:.3f} vs B {row[b]:.3f} ({row['difference']:+.3f}) · "
                        f"{row['category']} · test: {row['test_skus']}")
                if c2.button("Open in Shopper Simulator", key=f"open_{row['shopper_id']}"):
                    link = ShopperLink(row["shopper_id"], (a, b), tuple(row["test_skus"].split()))
                    st.switch_page("pages/shopper.py", query_params=link.query_params())
        st.text("Also stored in the workspace: " + "  ".join(ev.report_paths))

with user_errors():
    sweeps = read_sweeps(lab.workspace.reports_dir)
    if sweeps:
        st.subheader("How accurate must a describer be?")
        st.caption("The simulated LVLM (sample ground truth, accuracy p) is not a model: it writes each description "
                   "from the sample's ground truth, each facet right with probability p. Written by "
                   "`python bench/simulated_sweep.py --workspace DIR`; dashed lines are the baselines.")
        left, right = st.columns(2)
        sweep = sweeps[left.selectbox("Sweep split", range(len(sweeps)), format_func=lambda i: sweeps[i].split)]
        sweep_metric = right.selectbox("Sweep metric", SWEEP_METRICS, format_func=metric_label)
        st.text(f"Prompt {sweep.prompt}, seed {sweep.seed}. {sweep.pool}")
        curve = sweep.curve(sweep_metric)
        runs = curve[curve["accuracy"].notna()]
        fig = go.Figure(go.Scatter(x=runs["accuracy"], y=runs["mean"], mode="lines+markers", name="simulated LVLM",
                                   error_y={"type": "data", "symmetric": False, "array": runs["hi"] - runs["mean"],
                                            "arrayminus": runs["mean"] - runs["lo"]}))
        for row in curve[curve["accuracy"].isna()].itertuples():
            fig.add_hline(y=row.mean, line_dash="dash", annotation_text=row.method, annotation_position="top left")
        fig.update_layout(xaxis_title="accuracy p (share of facets right)", margin={"t": 20}, height=380,
                          yaxis_title=f"{metric_label(sweep_metric)} (95% CI)")
        st.plotly_chart(fig, width="stretch")
        st.dataframe(safe_frame(sweep.comparison_frame(sweep_metric)), hide_index=True, width="stretch")
        st.caption("Each row: the simulated run minus a baseline per shopper; all rows of a metric form one family, "
                   "Holm–Bonferroni corrected together.")
