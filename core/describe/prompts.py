"""Versioned prompts stored as Markdown files with YAML front matter (prompts/<name>/v<N>.md)."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.config import SEED_PROMPTS_DIR
from core.errors import VitrineError
from core.models import FACETS

DEFAULT_PROMPTS_DIR = SEED_PROMPTS_DIR
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
_REF_RE = re.compile(r"^(?P<name>[^@]+)(@v?(?P<version>\d+))?$")
BUILTIN_VARIABLES = frozenset({"max_words"})  # always available to templates, never declared


class PromptError(VitrineError):
    """A prompt file or edit is invalid."""


class PromptVersion(BaseModel):
    """One immutable prompt version: template text, declared variables and requested facets."""

    name: str
    version: int = Field(ge=1)
    template: str
    variables: list[str] = Field(default_factory=list)
    facets: list[str] = Field(default_factory=lambda: list(FACETS))
    max_words: int = Field(default=60, ge=5, le=400)
    summary: str = ""
    created_at: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("prompt names are lowercase letters, digits, '-' or '_' (max 48)")
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
        used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
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

    def render(self, context: dict[str, str]) -> str:
        """Fill declared variables from item context; a missing value becomes 'unknown'."""
        values = {v: (context.get(v) or "unknown") for v in self.variables}
        return self.template.format(max_words=self.max_words, **values)

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
    return f"{where}: {err['msg']}"


class PromptLibrary:
    """All prompt versions under one folder; saving always creates a new file."""

    def __init__(self, root: Path = DEFAULT_PROMPTS_DIR) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("v*.md")))

    def versions(self, name: str) -> list[PromptVersion]:
        folder = self.root / name
        if not folder.is_dir():
            raise PromptError(f"no prompt named {name!r}; available: {', '.join(self.names()) or 'none'}")
        files = sorted(folder.glob("v*.md"), key=lambda p: int(p.stem[1:]) if p.stem[1:].isdigit() else 0)
        return [parse_prompt_file(p) for p in files if p.stem[1:].isdigit()]

    def all_versions(self) -> list[PromptVersion]:
        return [v for name in self.names() for v in self.versions(name)]

    def get(self, ref: str) -> PromptVersion:
        """Resolve 'name' (latest) or 'name@N' / 'name@vN'."""
        match = _REF_RE.match(ref.strip())
        if not match:
            raise PromptError(f"bad prompt reference {ref!r}; use NAME or NAME@VERSION")
        versions = self.versions(match["name"])
        if match["version"] is None:
            return versions[-1]
        wanted = int(match["version"])
        for v in versions:
            if v.version == wanted:
                return v
        raise PromptError(f"prompt {match['name']!r} has no version {wanted}; latest is v{versions[-1].version}")

    def save(self, name: str, template: str, *, variables: list[str], facets: list[str],
             max_words: int, summary: str = "") -> PromptVersion:
        """Validate and write the next version; never overwrites (exclusive create)."""
        existing = self.versions(name) if (self.root / name).is_dir() else []
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
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"v{prompt.version}.md", "x", encoding="utf-8") as fh:
            fh.write(prompt.to_file_text())
        return prompt


def diff_versions(a: PromptVersion, b: PromptVersion) -> str:
    """Unified diff of two versions' full files (settings and template)."""
    return "".join(difflib.unified_diff(
        a.to_file_text().splitlines(keepends=True), b.to_file_text().splitlines(keepends=True),
        fromfile=a.ref, tofile=b.ref,
    ))
