"""Validates Kubernetes manifests: built-in kinds against the Kubernetes schemas that `kubernetes-validate`
bundles (strict: unknown fields are errors), custom resources of the groups the schemas cover
(monitoring.coreos.com, keda.sh) against their CRD's openAPIV3Schema (charts/crds/schemas/*.json, also strict:
an unknown field is an error unless the schema preserves unknown fields, as `kubectl apply --validate=strict`
would report).

usage: validate_manifests.py <kubernetes-version> <crd-schema-dir> <manifest.yaml>...
Prints one JSON object: {"checked": n, "errors": [{"file", "kind", "name", "error"}]}; exit 1 on errors.
"""
import copy
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml


def strict(schema):
    """Closes every object schema that lists its properties (and does not preserve unknown fields)."""
    if isinstance(schema, dict):
        out = {k: strict(v) if k in ("items", "additionalProperties", "not") else v for k, v in schema.items()}
        if "properties" in schema:
            out["properties"] = {k: strict(v) for k, v in schema["properties"].items()}
            if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
                out["additionalProperties"] = False
        for key in ("allOf", "anyOf", "oneOf"):
            if key in schema:
                out[key] = [strict(s) for s in schema[key]]
        return out
    return schema


def load_crd_schemas(directory):
    validators = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name)) as f:
            crd = json.load(f)
        schema = strict(copy.deepcopy(crd["openAPIV3Schema"]))
        # metadata is validated by the API server, not by the CRD schema: leave it open.
        schema["properties"]["metadata"] = {"type": "object"}
        # OpenAPI 3.0 schemas are closest to JSON Schema draft 4 (boolean exclusiveMinimum, no $schema).
        validators[(crd["group"] + "/" + crd["version"], crd["kind"])] = jsonschema.Draft4Validator(schema)
    return validators


def main(argv):
    version, schema_dir, files = argv[1], argv[2], argv[3:]
    crds = load_crd_schemas(schema_dir)
    # A custom resource of a group with CRD schemas here (monitoring.coreos.com, keda.sh) is validated against them.
    crd_groups = {api_version.split("/")[0] for api_version, _ in crds}
    errors, checked = [], 0
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for doc in docs:
            checked += 1
            kind = doc.get("kind", "?")
            name = doc.get("metadata", {}).get("name", "?")

            def fail(message):
                errors.append({"file": os.path.basename(path), "kind": kind, "name": name, "error": message})

            api_version = doc.get("apiVersion", "")
            if api_version.split("/")[0] in crd_groups:
                validator = crds.get((api_version, kind))
                if validator is None:
                    fail("no CRD schema for %s %s" % (api_version, kind))
                    continue
                for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                    fail("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message))
                continue
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                fail("%s: %s" % ("/".join(str(p) for p in e.path), e.message))
            except kubernetes_validate.SchemaNotFoundError as e:
                fail(e.message)
    print(json.dumps({"checked": checked, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
