"""Title ablation: the same prompt run with the product title withheld, to measure how much of a description's
strength is the title leaking in. The result is an ordinary prompt version and an ordinary description run.
"""

from __future__ import annotations

import re

from core.describe.prompts import PromptLibrary, PromptVersion
from core.errors import EvaluationError
from core.lab import Lab
from core.models import Progress
from core.represent.representations import embed_description_run
from core.runs.describe import RunReport, describe_items


def prompt_without(library: PromptLibrary, prompt: PromptVersion, variable: str = "title") -> PromptVersion:
    """Save (or reuse) `<name>-no<variable>`: the template minus every line that uses {variable}."""
    if variable not in prompt.variables:
        raise EvaluationError(f"{prompt.ref} does not use {{{variable}}}: there is nothing to withhold")
    kept = [line for line in prompt.template.splitlines() if "{" + variable + "}" not in line]
    template = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    variables = [v for v in prompt.variables if v != variable]
    name = f"{prompt.name}-no{variable}"
    candidate = PromptVersion(name=name, version=1, template=template, variables=variables, facets=prompt.facets,
                              max_words=prompt.max_words)
    if (library.root / name).is_dir():
        same = [v for v in library.versions(name) if v.hash == candidate.hash]
        if same:
            return same[-1]
    return library.save(name, template, variables=variables, facets=prompt.facets, max_words=prompt.max_words,
                        summary=f"{prompt.ref} with {{{variable}}} withheld (ablation)")


def run_withheld(lab: Lab, prompt: PromptVersion, provider: str, *, variable: str = "title",
                 model: str | None = None, progress: Progress | None = None) -> RunReport:
    """Describe the catalogue with `variable` absent from the prompt AND from the item context.

    Dropping the column matters: a describer may read item context beyond the prompt's declared variables
    (the offline tagger takes product-type hints from the title), so editing the prompt alone would not
    withhold anything. A prompt that never used the variable keeps its version; since description keys do
    not include item context, that case refuses to reuse descriptions made with the variable visible.
    """
    describer = lab.describer(provider, model=model)
    if variable in prompt.variables:
        prompt = prompt_without(lab.prompts, prompt, variable)
    elif not lab.store.descriptions(prompt_hash=prompt.hash, provider=describer.provider,
                                    model=describer.model).empty:
        raise EvaluationError(f"{prompt.ref} via {describer.provider} already has descriptions made with "
                              f"{variable!r} visible; run the withheld version in a fresh workspace")
    items = lab.store.items()
    if items.empty:
        raise EvaluationError("the catalogue is empty: nothing to describe")
    report = describe_items(lab, items.drop(columns=[variable], errors="ignore"), prompt, describer,
                            progress=progress)
    report.representation = embed_description_run(lab, prompt, describer.provider, describer.model)
    return report
