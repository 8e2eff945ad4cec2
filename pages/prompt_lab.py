"""Prompt Lab: edit and diff prompt versions, A/B test two runs (with blind votes), promote the winner."""

import pandas as pd
import streamlit as st

from core.describe.prompts import diff_versions
from core.models import FACETS
from core.services.ab import (
    STRATEGIES,
    ABResult,
    ABRun,
    ProviderChoice,
    SideSpec,
    compare,
    complete_sides,
    promote,
    promotion_plan,
    provider_choices,
    recall_at_k,
    recall_plans,
    run_ab,
    sample_items,
)
from core.services.ab_report import results_csv, results_markdown
from core.services.prompt_versions import save_prompt
from core.services.votes import left_side, record_vote, vote_choices, votes, win_rate
from ui.jobs import stoppable, stopped_notice
from ui.state import SAVED_PROMPT, get_lab, user_errors
from ui.text import plain, safe_frame
from ui.widgets import thumbnail

AB_KEY = "pl_ab_run"  # (ABRun, seed) of the last A/B run: results and votes survive reruns
SAVED_KEY = "pl_saved"  # (edited, saved) refs of a just-saved version, selected everywhere on the next run
RECALL_KEY = "pl_recall"  # (ab_id, result) of the last Recall@10 check

st.title("Prompt Lab")
st.caption("Prompts are data: every save is a new immutable version in this workspace (the shipped seeds are "
           "read-only). Compare two versions (or providers) on a sample, vote blind, check Recall@10, and promote "
           "the winner for the catalogue.")
lab = get_lab()

entries = {}
with user_errors():
    entries = {e.prompt.ref: e for e in lab.prompts.entries()}
if not entries:
    st.info(f"No prompt versions found under {plain(lab.prompts.seeds_dir)} or {plain(lab.workspace.prompts_dir)}.")
    st.stop()
versions = {ref: e.prompt for ref, e in entries.items()}
refs = list(versions)
choices = {c.name: c for c in provider_choices(lab)}
items = lab.store.items()
active_ref, active_provider = refs[0], lab.active_provider()
with user_errors():  # a promoted prompt whose files were removed falls back to the first version
    active_ref = lab.active_prompt().ref
if (just_saved := st.session_state.pop(SAVED_KEY, None)) and just_saved[1] in versions:
    edited, saved = just_saved  # what the reviewer does next is diff it, then A/B it: B and Diff's To default to it
    st.session_state.update({"pl_edit_ref": saved, "pl_diff_from": edited, "pl_diff_to": saved,
                             "pl_ab_B_prompt": saved})


def promotion_form(prompt_ref: str, provider: str, model: str, key: str, connection: str = "") -> None:
    """A run becomes active only once it covers the catalogue: show what that takes, then do it with progress."""
    with user_errors():
        plan = promotion_plan(lab, prompt_ref, provider, model, connection)
        st.text(plan.estimate())
        consent = (st.checkbox("Send the missing items to this hosted provider", key=f"{key}_consent")
                   if plan.to_describe and plan.hosted else True)
        if st.button(f"Promote {plain(plan.run)}", type="primary", key=key, disabled=not consent):
            bar = st.progress(0.0, text="describing the rest of the catalogue")
            promoted = promote(lab, prompt_ref, provider, model, connection=connection, allow_hosted=consent,
                               progress=lambda d, t, _label: bar.progress(d / max(t, 1), text=f"{d}/{t} described"))
            st.success(plain(f"{promoted.ref} via {plan.provider}/{plan.model} is now active for the whole "
                             "catalogue."))


@st.fragment
def review(run: ABRun, order_seed: int, result: ABResult) -> None:
    """Both sides per item, blind votes, B's win rate and the downloads that carry the votes: a vote reruns only
    this part (a whole-page rerun took about 3.5 s per vote)."""
    comparison = run.ab_id

    def vote(sku: str, choice: str, left: str) -> None:
        with user_errors():
            record_vote(lab, run.side_a.run, run.side_b.run, sku, choice, left)

    with user_errors():
        rate = win_rate(votes(lab, comparison)["winner"])
        win_col, csv_col, md_col = st.columns([2, 1, 1])
        win_col.metric("B win rate (non-tie votes)", "—" if rate.rate_b is None else f"{rate.rate_b:.0%}")
        win_col.caption("no decisive votes yet" if rate.rate_b is None else
                        f"95% CI {rate.ci_low:.0%}–{rate.ci_high:.0%} (Wilson) · {rate.wins_b:d} B / "
                        f"{rate.wins_a:d} A · {rate.ties:d} ties")
        csv_col.download_button("Download results (CSV)", results_csv(lab, result), file_name="ab-results.csv",
                                mime="text/csv", on_click="ignore", key="pl_ab_download_csv")
        md_col.download_button("Download results (Markdown)", results_markdown(lab, result).encode(),
                               file_name="ab-results.md", mime="text/markdown", on_click="ignore",
                               key="pl_ab_download_md")
        blind = st.toggle("Blind vote mode", key="pl_blind",
                          help="Sides are shuffled per item (stable for this seed): vote without knowing which is A.")
        mine = vote_choices(lab, comparison) if blind else {}
        for row in result.rows.to_dict("records"):
            img_col, first_col, second_col = st.columns([1, 3, 3])
            title = f"{row['sku']} · {row['title']}"
            if img := thumbnail(lab, row["image_sha256"]):
                img_col.image(img, caption=plain(title), width="stretch")
            else:
                img_col.text(title)
            left = left_side(order_seed, comparison, row["sku"])
            order = (left, "b" if left == "a" else "a") if blind else ("a", "b")
            headings = ("Left", "Right") if blind else ("A", "B")
            for col, side, heading in zip((first_col, second_col), order, headings, strict=True):
                col.caption(plain(heading))
                if row[f"error_{side}"]:
                    col.text(f"error: {row[f'error_{side}']}")
                else:
                    col.text(row[f"text_{side}"])
                    if row[f"attributes_{side}"]:
                        col.text(row[f"attributes_{side}"])
            if blind:
                tie_col, left_col, right_col = st.columns([1, 3, 3])  # aligned under image | left | right
                for button_col, label, choice in zip((left_col, right_col, tie_col),
                                                     ("Left better", "Right better", "Tie"),
                                                     ("left", "right", "tie"), strict=True):
                    button_col.button(plain(label), key=f"pl_vote_{comparison}_{row['sku']}_{choice}",
                                      on_click=vote, args=(row["sku"], choice, left),
                                      type="primary" if mine.get(row["sku"]) == choice else "secondary")
            elif pd.notna(row["cosine"]):
                img_col.caption(f"cosine A↔B {row['cosine']:.3f}")
            st.divider()


edit_tab, diff_tab, ab_tab, promote_tab = st.tabs(["Prompts", "Diff", "A/B test", "Promote"])


def provider_picker(key: str, default: str, *, base_url_input: bool = True) -> tuple[ProviderChoice, str, str]:
    """Provider or named connection select, plus model / base_url inputs for the providers that take them (a
    connection brings its own)."""
    names = list(choices)
    name = st.selectbox("Provider", names, index=names.index(default) if default in names else 0,
                        format_func=lambda n: choices[n].label, key=f"{key}_provider")
    choice, model, base_url = choices[name], "", ""
    if choice.configurable:
        model = st.text_input("Model", key=f"{key}_model", placeholder="provider default")
        if base_url_input:
            base_url = st.text_input("Base URL (optional)", key=f"{key}_base_url",
                                     placeholder="e.g. http://localhost:11434/v1 for Ollama")
    if choice.available:
        st.caption(plain(choice.detail))
    else:
        st.warning(plain(f"{choice.label}: {choice.detail}" + (", or give the base URL of a local compatible "
                                                               "server." if choice.configurable else "")))
    return choice, model, base_url


# --- Prompts: list, edit, save as a new version, preview -----------------------------------
with edit_tab:
    st.dataframe(safe_frame(pd.DataFrame([{
        "ref": ref, "source": entries[ref].source, "facets": ", ".join(v.facets), "max words": v.max_words,
        "variables": ", ".join(v.variables), "summary": v.summary, "created": v.created_at, "hash": v.hash,
    } for ref, v in versions.items()])), hide_index=True, width="stretch")
    if just_saved and just_saved[1] in versions:
        saved = just_saved[1]
        st.success(f"Saved {plain(saved)} to {plain(entries[saved].path.parent)}; earlier versions are unchanged.")
    base = versions[st.selectbox("Version to edit", refs, key="pl_edit_ref")]
    context = lab.image_ref(items.iloc[0].to_dict()).context if len(items) else {}
    left, right = st.columns([3, 2])
    with left:
        template = st.text_area("Template", base.template, height=320, key=f"pl_tpl_{base.ref}",
                                help="Use {variable} for item metadata and {max_words} for the word limit.")
    with right:
        name = st.text_input("Save as prompt", base.name, key=f"pl_name_{base.ref}",
                             help="Keep the name for a new version, or type a new name to fork.")
        variables = st.multiselect("Variables", sorted(set(base.variables) | set(context)), base.variables,
                                   accept_new_options=True, key=f"pl_vars_{base.ref}")
        facets = st.multiselect("Facets (in the order the description should cover them)", list(FACETS),
                                base.facets, key=f"pl_facets_{base.ref}")
        max_words = st.number_input("Max words", 5, 400, base.max_words, key=f"pl_words_{base.ref}")
        summary = st.text_input("Change note", base.summary, key=f"pl_summary_{base.ref}")
        if st.button("Save as new version", type="primary", key="pl_save"):
            with user_errors():
                new = save_prompt(lab, name.strip(), template, variables=variables, facets=facets,
                                  max_words=int(max_words), summary=summary)
                st.session_state[SAVED_KEY] = (base.ref, new.ref)
                st.session_state[SAVED_PROMPT] = new.ref
                st.rerun()
    st.subheader("Rendered for a sample item")
    if len(items):
        sku = st.selectbox("Sample item", items["sku"], key="pl_preview_sku")
        with user_errors():
            row = items[items["sku"] == sku].iloc[0].to_dict()
            st.code(base.render(lab.image_ref(row).context), language=None, wrap_lines=True)
    else:
        st.caption("Add items on the Catalog page to preview the prompt on one.")

# --- Diff ----------------------------------------------------------------------------------
with diff_tab:
    c1, c2 = st.columns(2)
    old = c1.selectbox("From", refs, index=max(len(refs) - 2, 0), key="pl_diff_from")
    new_ref = c2.selectbox("To", refs, index=len(refs) - 1, key="pl_diff_to")
    diff = diff_versions(versions[old], versions[new_ref])
    if diff:
        st.code(diff, language="diff")
    else:
        st.info("The two versions are identical.")

# --- A/B test ------------------------------------------------------------------------------
with ab_tab:
    specs = []
    cols = st.columns(2)
    other_ref = next((r for r in reversed(refs) if r != active_ref), active_ref)  # e.g. the newest version
    for side, col, default_ref in (("A", cols[0], active_ref), ("B", cols[1], other_ref)):
        with col:
            st.subheader(f"Side {plain(side)}")
            ref = st.selectbox("Prompt version", refs, key=f"pl_ab_{side}_prompt",
                               index=refs.index(default_ref) if default_ref in refs else 0)
            choice, model, base_url = provider_picker(f"pl_ab_{side}", active_provider[0])
            specs.append(SideSpec(ref, choice.name, model, base_url, choice.connection))
    s1, s2, s3, s4 = st.columns(4)
    n = s1.number_input("Sample size N", 1, 1000, 12, key="pl_ab_n")
    strategy = s2.radio("Sampling", list(STRATEGIES), format_func=STRATEGIES.get, key="pl_ab_strategy")
    seed = s3.number_input("Seed", 0, 1_000_000, 0, key="pl_ab_seed")
    retry = s4.checkbox("Retry earlier failures", key="pl_ab_retry",
                        help="Failed descriptions are cached too; tick to pay for another attempt.")
    stopped_notice("pl_ab")
    if st.button("Run A/B", type="primary", key="pl_ab_run_button"):
        with user_errors():
            sample = sample_items(items, int(n), strategy, int(seed))
            with st.status(f"Describing {len(sample)} items with A and B…", expanded=True) as status, \
                    stoppable("starting", "pl_ab") as tick:
                run = run_ab(lab, sample, specs[0], specs[1], retry_failed=retry, progress=tick)
                status.update(label=plain(" | ".join(r.summary() for r in run.reports)), state="complete")
            st.session_state[AB_KEY] = (run, int(seed))

    if AB_KEY in st.session_state:
        run, order_seed = st.session_state[AB_KEY]
        comparison = run.ab_id
        with user_errors():
            result = compare(lab, items[items["sku"].isin(run.skus)], run.side_a, run.side_b)
            st.subheader("Per-side metrics")
            st.caption(f"A = {plain(run.side_a.run)} · B = {plain(run.side_b.run)}")
            st.dataframe(safe_frame(result.metrics_table()), hide_index=True, width="stretch", column_config={
                "mean words": st.column_config.NumberColumn(format="%.1f"),
                "mean latency (ms)": st.column_config.NumberColumn(format="%.0f"),
                **{f"coverage: {f}": st.column_config.NumberColumn(format="percent", help="blank: not requested")
                   for f in result.facets},
            })
            cosine_col, promote_col = st.columns(2)
            cosine_col.metric("Mean cosine A↔B", "—" if result.mean_cosine is None else f"{result.mean_cosine:.3f}",
                      help="How far each item moved between A's and B's vectors (1 = unchanged).")
            if result.cosine_note:
                cosine_col.caption(plain(result.cosine_note))
            # Keyed, so it stays open (showing the outcome) when the run after "Run A/B" drops its status box.
            with promote_col.popover("Promote…", key="pl_promote_popover"):
                for label, side in (("A", run.side_a), ("B", run.side_b)):
                    promotion_form(side.prompt.ref, side.provider, side.model, f"pl_promote_{label.lower()}")

            if result.identical_note:
                st.warning(plain(result.identical_note))
            review(run, order_seed, result)

            st.subheader("Recall@10 on held-out interactions")
            if lab.workspace.interactions_csv.exists():
                sides = [run.side_a, run.side_b]
                plans = recall_plans(lab, sides)
                st.text("Scored over the whole catalogue. First:\n" + "\n".join(p.estimate() for p in plans))
                hosted = any(p.hosted and p.to_describe for p in plans)
                consent = (st.checkbox("Send the missing items to the hosted provider(s)", key="pl_recall_consent")
                           if hosted else True)
                if st.button("Compute Recall@10", key="pl_recall_button", disabled=not consent):
                    bar = st.progress(0.0, text="describing the rest of the catalogue")
                    tick = lambda d, t, label: bar.progress(d / max(t, 1), text=label)
                    complete_sides(lab, sides, allow_hosted=consent, progress=tick)
                    rec = recall_at_k(lab, [s.run for s in sides], seed=int(seed), progress=tick)
                    bar.empty()
                    st.session_state[RECALL_KEY] = (comparison, rec)
                if (saved_recall := st.session_state.get(RECALL_KEY)) and saved_recall[0] == comparison:
                    rec = saved_recall[1]
                    st.dataframe(safe_frame(pd.DataFrame([{"side": side, "representation": r.run,
                                                f"Recall@{rec['k']} [95% CI]": rec["recall"][r.run].text(),
                                                "shoppers": rec["recall"][r.run].n}
                                               for side, r in (("A", run.side_a), ("B", run.side_b))])),
                                 hide_index=True, width="stretch")
                    st.caption(f"{rec['users']:,} shoppers evaluated on a shared pool of {rec['pool']:,} SKUs "
                               f"(seed {rec['seed']:d}) · {plain(rec['filter'].summary())}")
                    st.info(plain(rec["caveat"]))
            else:
                st.caption("No interactions.csv in this workspace, so there is no held-out check.")

# --- Promote ---------------------------------------------------------------------------------
with promote_tab:
    ref = st.selectbox("Prompt version", refs, key="pl_promote_prompt",
                       index=refs.index(active_ref) if active_ref in refs else 0)
    choice, model, _ = provider_picker("pl_promote", active_provider[0], base_url_input=False)
    promotion_form(ref, choice.name, model, "pl_promote_button", choice.connection)
    with user_errors():
        st.text(f"Active now: {lab.active_prompt().ref} via {'/'.join(p for p in lab.active_provider() if p)}")
