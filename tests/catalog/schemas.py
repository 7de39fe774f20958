"""Validation of the catalog's objects with jsonschema: Tekton's published
OpenAPI definitions and, for Kubernetes core types (which Tekton's swagger
only names), python3-kubernetes' models, turned into one set of JSON Schema
definitions.

The conversion keeps what a strict apiserver enforces and the swagger
leaves implicit: a field no definition names is an error (Go's decoder
with DisallowUnknownFields), required fields must be there, and the types
Go decodes by hand (ParamValue, Duration, Time) are described as Go reads
them.
"""

import json
import os

import jsonschema

from model import GO_DURATION, INLINE_EMBEDS

# Go types whose JSON form the swagger does not show.
SPECIAL = {
    # a string, a list of strings or a string map
    "ParamValue": {"anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "string"}},
    ]},
    "v1.Duration": {"type": "string", "pattern": GO_DURATION.pattern},
    "v1.Time": {"type": "string"},
    "k8s.io.apimachinery.pkg.runtime.RawExtension": {},
}
K8S_SCALARS = {
    "str": {"type": "string"}, "int": {"type": "integer"},
    "bool": {"type": "boolean"}, "float": {"type": "number"},
    "datetime": {"type": "string"}, "date": {"type": "string"},
    "object": {},
}
# resources.limits and requests take quantities: 1 as well as "1Gi"
QUANTITY = {"type": ["string", "number"]}


def type_name(value):
    if value is None:
        return "nothing (empty value)"
    return {str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", list: "a list", dict: "a mapping"}.get(
                type(value), type(value).__name__)


TYPE_WORDS = {"string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "a boolean",
              "array": "a list", "object": "a mapping"}


class Schemas:
    def __init__(self, api_dir):
        self.tekton = {}
        for version in ("v1", "v1beta1"):
            path = os.path.join(api_dir, f"{version}-swagger.json")
            with open(path, encoding="utf-8") as fh:
                self.tekton[version] = json.load(fh)["definitions"]
        try:
            import kubernetes.client as k8s  # python3-kubernetes
            from kubernetes.client.configuration import Configuration
            self.k8s = k8s
            self.k8s_config = Configuration()
            self.k8s_config.client_side_validation = True
        except ImportError:
            self.k8s = None
        self.defs = {}  # JSON Schema definitions, filled as refs are met
        self.unchecked = set()  # names nothing defines

    # -- building the definitions ------------------------------------------

    def _define(self, key, build):
        """A $ref to definitions/key, built once (refs may recurse)."""
        if key not in self.defs:
            self.defs[key] = {}
            self.defs[key] = build()
        return {"$ref": f"#/definitions/{key}"}

    def tekton_ref(self, name, origin):
        """Schema for a swagger definition name met in version `origin`."""
        if name.endswith(".ParamValue"):
            return SPECIAL["ParamValue"]
        if name in SPECIAL:
            return SPECIAL[name]
        for version in (origin, "v1", "v1beta1"):
            if name in self.tekton[version]:
                return self._define(f"tekton:{version}:{name}",
                                    lambda v=version: self._tekton(name, v))
        if name.startswith("v1.") and self.k8s is not None and \
                hasattr(self.k8s, "V1" + name[3:]):
            return self.k8s_ref("V1" + name[3:])
        self.unchecked.add(name)
        return {}

    def _tekton(self, name, version):
        schema = self.tekton[version][name]
        if name in INLINE_EMBEDS:
            props = dict(schema.get("properties", {}))
            for embedded in INLINE_EMBEDS[name]:
                props.update(self.tekton[version][embedded]["properties"])
            schema = dict(schema, properties=props)
        return self._convert(schema, version)

    def _convert(self, node, origin):
        """One swagger schema node as JSON Schema, unknown fields refused."""
        if not isinstance(node, dict):
            return {}
        if "$ref" in node:
            return self.tekton_ref(node["$ref"].rsplit("/", 1)[1], origin)
        kind = node.get("type")
        props = node.get("properties")
        addl = node.get("additionalProperties")
        if kind in ("string", "integer", "number", "boolean"):
            return {"type": kind}
        if kind == "array":
            return {"type": "array",
                    "items": self._convert(node.get("items", {}), origin)}
        if kind != "object" and props is None:
            return {}
        out = {"type": "object"}
        if props is not None:
            out["properties"] = {k: self._convert(v, origin)
                                 for k, v in props.items()}
            out["required"] = list(node.get("required", []))
            if not out["required"]:
                del out["required"]
            out["additionalProperties"] = (
                self._convert(addl, origin) if addl is not None else False)
        elif isinstance(addl, dict):
            out["additionalProperties"] = self._convert(addl, origin)
        return out

    def k8s_ref(self, model_name):
        model = getattr(self.k8s, model_name, None)
        if model is None:
            self.unchecked.add(model_name)
            return {}
        return self._define(f"k8s:{model_name}",
                            lambda: self._k8s_model(model_name, model))

    def _k8s_model(self, model_name, model):
        props = {}
        for attr, type_str in model.openapi_types.items():
            key = model.attribute_map[attr]
            if model_name == "V1ResourceRequirements" and \
                    key in ("limits", "requests"):
                props[key] = {"type": "object",
                              "additionalProperties": QUANTITY}
            else:
                props[key] = self._k8s_type(type_str)
        out = {"title": f"Kubernetes {model_name}", "type": "object",
               "properties": props, "additionalProperties": False}
        required = self.k8s_required(model)
        if required:
            out["required"] = required
        return out

    def _k8s_type(self, type_str):
        if type_str.startswith("list[") and type_str.endswith("]"):
            return {"type": "array", "items": self._k8s_type(type_str[5:-1])}
        if type_str.startswith("dict(str, ") and type_str.endswith(")"):
            return {"type": "object",
                    "additionalProperties": self._k8s_type(type_str[10:-1])}
        if type_str in K8S_SCALARS:
            return K8S_SCALARS[type_str]
        return self.k8s_ref(type_str)

    def k8s_required(self, model):
        """The fields the model's setters refuse to leave empty."""
        obj = model.__new__(model)
        obj.local_vars_configuration = self.k8s_config
        required = []
        for attr in model.openapi_types:
            try:
                setattr(obj, attr, None)
            except ValueError:
                required.append(model.attribute_map[attr])
        return required

    # -- validating ----------------------------------------------------------

    def top_schema(self, api, kind):
        """(schema, None) for an object's apiVersion and kind, or (None,
        the reason it has none); ({}, None) when nothing can check it."""
        if api.startswith("tekton.dev/"):
            version = api.split("/", 1)[1]
            if version not in self.tekton:
                return None, f"no Tekton definitions for {api}"
            name = f"{version}.{kind}"
            if not any(name in d for d in self.tekton.values()):
                return None, f"{api} has no kind {kind}"
            return self.tekton_ref(name, version), None
        if self.k8s is not None:
            version = api.rsplit("/", 1)[-1]
            model_name = version[0].upper() + version[1:] + kind
            if hasattr(self.k8s, model_name):
                return self.k8s_ref(model_name), None
        self.unchecked.add(f"{api} {kind}")
        return {}, None

    def validate_top(self, obj):
        """The problems of one document, each "path: what is wrong"."""
        if not isinstance(obj, dict):
            return ["document is not a mapping"]
        api, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api, str) or not isinstance(kind, str):
            return ["apiVersion and kind are required"]
        errs = []
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not (meta.get("name") or
                                               meta.get("generateName")):
            errs.append("metadata.name (or generateName) is required")
        schema, problem = self.top_schema(api, kind)
        if problem:
            return errs + [problem]
        root = dict(schema, definitions=self.defs)
        validator = jsonschema.Draft4Validator(root)
        for error in validator.iter_errors(obj):
            errs += describe(error)
        return errs


def where(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else \
            (f".{part}" if out else str(part))
    return out


def describe(error):
    """jsonschema's error as the lines a reader of the catalog wants."""
    path = where(error.absolute_path)
    here = path or "."
    value = error.instance
    what = error.schema.get("title", "")
    of = f" ({what})" if what else ""
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [f"{path + '.' if path else ''}{k}: unknown field{of}"
                for k in value if k not in known]
    if error.validator == "required":
        return [f"{here}: missing required field {r}{of}"
                for r in error.validator_value if r not in value]
    if error.validator == "type":
        want = error.validator_value
        want = " or ".join(TYPE_WORDS.get(w, w) for w in (
            want if isinstance(want, list) else [want]))
        return [f"{here}: expected {want}, got {type_name(value)}"]
    if error.validator == "pattern":
        return [f"{here}: expected a duration like 1h30m, got {value!r}"]
    if error.validator == "anyOf":
        return [f"{here}: expected a string, a list of strings or a map of "
                f"strings, got {type_name(value)}"]
    return [f"{here}: {error.message}"]
