"""Versioned prompts as Markdown files with YAML front matter: read-only seeds (prompts/<name>/v<N>.md beside the
code) plus the versions a user saves, which live in the workspace (<workspace>/prompts/<name>/v<N>.md)."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.config import PACKAGE_DIR, SEED_PROMPTS_DIR
from core.errors import VitrineError
from core.models import FACETS, inputs_digest

DEFAULT_PROMPTS_DIR = SEED_PROMPTS_DIR
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
_REF_RE = re.compile(r"^(?P<name>[^@]+)(@v?(?P<version>\d+))?$")
DEFAULT_MAX_WORDS = 60
_JSON_EXAMPLE = re.compile(r"""(?<!\{)(?:\{\{)*\{\s*["']""")  # a field opening on a quote: {"description": ...}
BUILTIN_VARIABLES = frozenset({"max_words"})  # always available to templates, never declared
Source = Literal["seed", "workspace"]  # shipped with the code (read-only) or saved by a user in the workspace


class PromptError(VitrineError):
    """A prompt file or edit is invalid."""


def _template_fields(template: str) -> set[str]:
    """The names a template fills in. A field is substituted as is: a format spec ({title:>200000000}), a conversion
    or attribute access would let one prompt build a 200 MB request or read Python internals, so each is refused."""
    if _JSON_EXAMPLE.search(template):
        raise ValueError("the template contains a JSON example: write braces as {{ and }}")
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValueError(f"the template has an unmatched brace ({exc}): write literal braces as {{{{ and }}}}") from exc
    for name, spec, conversion in fields:
        if not name.isidentifier() or spec or conversion:
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"template field {written} is not a plain {{name}}: write {{title}} or {{category}}; "
                             "formatting, conversions and attribute access are not allowed")
    return {name for name, _, _ in fields}


class PromptVersion(BaseModel):
    """One immutable prompt version: template text, declared variables and requested facets."""

    name: str
    version: int = Field(ge=1)
    template: str
    variables: list[str] = Field(default_factory=list)
    facets: list[str] = Field(default_factory=lambda: list(FACETS))
    max_words: int = Field(default=DEFAULT_MAX_WORDS, ge=5, le=400)
    summary: str = ""
    created_at: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("prompt names are lowercase letters, digits, '-' or '_' (max 48)")
        return value

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the template is empty")
        return value

    @field_validator("facets")
    @classmethod
    def _facets(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in FACETS]
        if unknown:
            raise ValueError(f"unknown facets {unknown}; allowed: {', '.join(FACETS)}")
        if not value:
            raise ValueError("a prompt must request at least one facet")
        return value

    @model_validator(mode="after")
    def _variables_match(self) -> PromptVersion:
        used = _template_fields(self.template)
        undeclared = sorted(used - set(self.variables) - BUILTIN_VARIABLES)
        if undeclared:
            raise ValueError(f"template uses undeclared variables: {undeclared}")
        return self

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def hash(self) -> str:
        """Content hash over everything that changes model input; part of every description key."""
        payload = json.dumps([self.template, sorted(self.variables), self.facets, self.max_words])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def inputs(self, context: Mapping[str, str]) -> dict[str, str]:
        """The item fields this version renders, as rendered: a missing value becomes 'unknown'."""
        return {v: (context.get(v) or "unknown") for v in self.variables}

    def inputs_hash(self, context: Mapping[str, str]) -> str:
        """Part of a description's key: the same image under another title is another description."""
        return inputs_digest(self.inputs(context))

    def render(self, context: Mapping[str, str]) -> str:
        """Fill declared variables from item context; a missing value becomes 'unknown'."""
        return self.template.format(max_words=self.max_words, **self.inputs(context))

    def to_file_text(self) -> str:
        meta = self.model_dump(exclude={"template", "name", "version"})
        return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + self.template.strip() + "\n"


def parse_prompt_file(path: Path) -> PromptVersion:
    """Read prompts/<name>/v<N>.md; name and version come from the path so files cannot lie."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not match:
        raise PromptError(f"{path}: missing YAML front matter (--- ... ---)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
        version = int(re.fullmatch(r"v(\d+)\.md", path.name).group(1))  # type: ignore[union-attr]
        return PromptVersion(name=path.parent.name, version=version, template=match.group(2).strip(), **meta)
    except (yaml.YAMLError, AttributeError, TypeError) as exc:
        raise PromptError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        raise PromptError(f"{path}: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "prompt"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"  # pydantic's prefix says nothing to a user


@dataclass(frozen=True)
class StoredPrompt:
    """A prompt version plus where it lives, so lists can say which versions are shipped and which are the user's."""

    prompt: PromptVersion
    source: Source
    path: Path


class PromptLibrary:
    """Read-only seed prompts shipped with the code plus the versions saved in a workspace.

    Saving always creates a new file under the workspace folder (`root`), numbered after the highest version of
    that name in either folder, so a saved version never shadows a seed and the installed code is never written.
    """

    def __init__(self, seeds_dir: Path = DEFAULT_PROMPTS_DIR, workspace_dir: Path | None = None) -> None:
        self.seeds_dir = Path(seeds_dir)
        self._workspace_dir = Path(workspace_dir) if workspace_dir is not None else None

    @property
    def root(self) -> Path:
        """The writable folder every save goes into: <workspace>/prompts."""
        if self._workspace_dir is None:
            raise PromptError("no workspace is open: prompt versions can only be saved into a workspace")
        return self._workspace_dir

    def _folders(self) -> list[tuple[Source, Path]]:
        """Seeds first; a workspace folder that is the seeds folder itself is read once (and refused for saves)."""
        folders: list[tuple[Source, Path]] = [("seed", self.seeds_dir)]
        ws = self._workspace_dir
        return folders + ([("workspace", ws)] if ws is not None and ws.resolve() != self.seeds_dir.resolve() else [])

    def names(self) -> list[str]:
        return sorted({p.name for _, folder in self._folders() if folder.is_dir()
                       for p in folder.iterdir() if p.is_dir() and any(_version_files(p))})

    def entries(self, name: str | None = None) -> list[StoredPrompt]:
        """Every version (of one prompt, or of all), oldest first, with its source and file."""
        if name is None:
            return [e for n in self.names() for e in self.entries(n)]
        found: dict[int, StoredPrompt] = {}
        for source, folder in self._folders():
            for version, path in _version_files(folder / name):
                if version in found:
                    raise PromptError(f"{name}@v{version} exists both as {found[version].path} and as {path}; "
                                      f"rename the workspace copy to a version number not used by the seeds")
                found[version] = StoredPrompt(parse_prompt_file(path), source, path)
        if not found:
            raise PromptError(f"no prompt named {name!r}; available: {', '.join(self.names()) or 'none'}")
        return [found[v] for v in sorted(found)]

    def versions(self, name: str) -> list[PromptVersion]:
        return [e.prompt for e in self.entries(name)]

    def all_versions(self) -> list[PromptVersion]:
        return [e.prompt for e in self.entries()]

    def entry(self, ref: str) -> StoredPrompt:
        """Resolve 'name' (latest) or 'name@N' / 'name@vN' to the version and its file."""
        match = _REF_RE.match(ref.strip())
        if not match:
            raise PromptError(f"bad prompt reference {ref!r}; use NAME or NAME@VERSION")
        entries = self.entries(match["name"])
        if match["version"] is None:
            return entries[-1]
        wanted = int(match["version"])
        for e in entries:
            if e.prompt.version == wanted:
                return e
        raise PromptError(f"prompt {match['name']!r} has no version {wanted}; latest is v{entries[-1].prompt.version}")

    def get(self, ref: str) -> PromptVersion:
        """Resolve 'name' (latest) or 'name@N' / 'name@vN'."""
        return self.entry(ref).prompt

    def save(self, name: str, template: str, *, variables: list[str], facets: list[str],
             max_words: int, summary: str = "") -> PromptVersion:
        """Validate and write the next version into the workspace; never overwrites (exclusive create)."""
        root = self.root
        existing = self.versions(name) if name in self.names() else []
        try:
            prompt = PromptVersion(
                name=name, version=(existing[-1].version + 1) if existing else 1, template=template.strip(),
                variables=variables, facets=facets, max_words=max_words, summary=summary,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        except ValidationError as exc:
            raise PromptError(_first_error(exc)) from exc
        if existing and existing[-1].hash == prompt.hash:
            raise PromptError(f"nothing changed: identical to {existing[-1].ref}")
        folder = self._writable(root / prompt.name)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(folder / f"v{prompt.version}.md", "x", encoding="utf-8") as fh:
                fh.write(prompt.to_file_text())
        except FileExistsError:
            raise PromptError(f"{prompt.ref} was saved by someone else meanwhile; save again for the next "
                              "version") from None
        return prompt

    def _writable(self, folder: Path) -> Path:
        """Refuse any target inside the shipped seeds or the installed package (e.g. a workspace at the checkout)."""
        target = folder.resolve()
        for code in (self.seeds_dir.resolve(), PACKAGE_DIR):
            if target.is_relative_to(code):
                raise PromptError(f"refusing to save into {folder}: it is inside the installed code ({code}); "
                                  "open a workspace outside it")
        return folder


def _version_files(folder: Path) -> list[tuple[int, Path]]:
    """(version, path) of every v<N>.md in a prompt's folder, none when the folder is absent."""
    if not folder.is_dir():
        return []
    return sorted((int(p.stem[1:]), p) for p in folder.glob("v*.md") if p.stem[1:].isdigit())


def diff_versions(a: PromptVersion, b: PromptVersion) -> str:
    """Unified diff of two versions' full files (settings and template)."""
    return "".join(difflib.unified_diff(
        a.to_file_text().splitlines(keepends=True), b.to_file_text().splitlines(keepends=True),
        fromfile=a.ref, tofile=b.ref,
    ))
