"""Layered configs, the Snakemake way, and ``{paths.<name>}`` references.

``snakemake --configfile a.yaml b.yaml`` extends the default ``config/config.yaml``: each file is
merged onto the result so far, recursively — mappings key by key, every other value replaced
(``snakemake.utils.update_config``). Two rules say when a layer replaces instead of merging:

* ``replace: all`` — the file is a complete config; nothing under it is kept (the real-model
  experiments and the smoke config, so none of toyworld's datasets, encoders or targets leak
  into them);
* ``replace: [section, …]`` — those top-level sections of the result are dropped before the
  file is merged, so the file's own sections stand alone.

After layering, any string holding ``{paths.<name>}`` has it replaced by ``paths.<name>``: a
string that is only the reference takes the value as it is (``null`` included), a longer string
gets its text. So a small overlay ``paths: {coco_root: /data/coco}`` moves every path built on
it. ``--config key=value`` is applied last, as Snakemake does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from snakemake.utils import update_config

from crossmodal.config import ConfigError

REPLACE = "replace"
PATH_REFERENCE = re.compile(r"\{paths\.([A-Za-z_][A-Za-z0-9_]*)\}")


def read_layer(path: str | Path) -> dict:
    """One config file as a mapping; one line naming the file when it is not one."""
    try:
        layer = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read the config file ({error})".replace("\n", " "))
    if layer is None:
        return {}
    if not isinstance(layer, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of sections, "
                          f"got {type(layer).__name__}")
    return layer


def _replaced_sections(layer: Mapping, name: str) -> str | list[str]:
    replace = layer.get(REPLACE, [])
    if replace == "all":
        return "all"
    if isinstance(replace, str):
        replace = [replace]
    if not isinstance(replace, list) or not all(isinstance(s, str) for s in replace):
        raise ConfigError(f"{name}: 'replace' must be 'all' or a list of top-level sections, "
                          f"got {replace!r}")
    return replace


def layer_configs(base: Mapping, layers: Sequence[Mapping],
                  names: Sequence[str] | None = None) -> dict:
    """``base`` with every layer applied in order (module docstring); ``names`` label the
    layers in errors. The ``replace`` keys are consumed."""
    result = copy.deepcopy(dict(base))
    result.pop(REPLACE, None)
    for index, layer in enumerate(layers):
        name = names[index] if names else f"config layer {index + 1}"
        replace = _replaced_sections(layer, name)
        layer = {k: copy.deepcopy(v) for k, v in layer.items() if k != REPLACE}
        if replace == "all":
            result = {}
        for section in ([] if replace == "all" else replace):
            result.pop(section, None)
        update_config(result, layer)
    return result


def resolve_paths(config: Mapping) -> dict:
    """``config`` with every ``{paths.<name>}`` in a string replaced by ``paths.<name>``; one
    line naming the reference when ``paths`` has no such entry."""
    paths = config.get("paths") or {}

    def lookup(name: str):
        if name not in paths:
            raise ConfigError(f"config error: '{{paths.{name}}}' is used but 'paths' has no "
                              f"'{name}'; it has {sorted(paths)}")
        return paths[name]

    def resolve(value):
        if isinstance(value, str):
            whole = PATH_REFERENCE.fullmatch(value)
            if whole:
                return lookup(whole.group(1))
            return PATH_REFERENCE.sub(lambda m: str(lookup(m.group(1))), value)
        if isinstance(value, Mapping):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return {key: value if key == "paths" else resolve(value) for key, value in config.items()}


def load_layered(files: Sequence[str | Path], default: str | Path | None,
                 overrides: Mapping | None = None) -> dict:
    """The config of ``--configfile files…`` on top of ``default`` (None: no default, as
    ``--replace-workflow-config``), then ``overrides`` (``--config``), paths resolved."""
    base = read_layer(default) if default is not None else {}
    layered = layer_configs(base, [read_layer(f) for f in files], [str(f) for f in files])
    if overrides:
        update_config(layered, copy.deepcopy(dict(overrides)))
    return resolve_paths(layered)
