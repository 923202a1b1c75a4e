"""Reads template.yaml and turns it into a CloudFormation template moto can deploy.

The SAM transform runs offline with samtranslator. Local code locations (CodeUri/ContentUri)
become placeholder S3 objects; we remember which folder each one stands for, so an invocation
of a deployed function can run that folder's handler in-process.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

from local_runtime.parameters import check_parameters

ARTIFACT_BUCKET = "local-runtime-artifacts"
_FUNCTION = "AWS::Serverless::Function"
_LAYER = "AWS::Serverless::LayerVersion"
_STATE_MACHINE = "AWS::Serverless::StateMachine"


class _NoManagedPolicies:
    """samtranslator asks IAM for AWS managed policy names only when a template uses them by
    name; we use SAM policy templates and inline statements, so an empty map is the truth."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class FunctionSource:
    """Where a deployed function's code lives on disk."""

    logical_id: str
    code_dir: Path
    handler: str
    layer_dirs: tuple[Path, ...] = ()


@dataclass
class TranslatedTemplate:
    cloudformation: dict[str, Any]
    functions: dict[str, FunctionSource] = field(default_factory=dict)
    placeholder_keys: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return json.dumps(self.cloudformation)

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            name: resource
            for name, resource in self.cloudformation["Resources"].items()
            if resource["Type"] == resource_type
        }


def load_sam_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(path.read_text())
    return template


def translate(template_path: Path, parameters: dict[str, str] | None = None) -> TranslatedTemplate:
    """SAM → CloudFormation, with code locations swapped for placeholder S3 objects."""
    sam = load_sam_template(template_path)
    check_parameters(sam.get("Parameters", {}), dict(parameters or {}))
    base_dir = template_path.parent
    code_dirs: dict[str, Path] = {}
    for name, resource in sam["Resources"].items():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == _FUNCTION and isinstance(props.get("CodeUri"), str):
            code_dirs[name] = (base_dir / props["CodeUri"]).resolve()
            props["CodeUri"] = {"Bucket": ARTIFACT_BUCKET, "Key": f"{name}.zip"}
        elif resource["Type"] == _STATE_MACHINE and isinstance(props.get("DefinitionUri"), str):
            # What `sam package` would upload; inline, the definition needs no bucket.
            definition_file = base_dir / props.pop("DefinitionUri")
            props["Definition"] = json.loads(definition_file.read_text())
        elif resource["Type"] == _LAYER and isinstance(props.get("ContentUri"), str):
            code_dirs[name] = (base_dir / props["ContentUri"]).resolve()
            props["ContentUri"] = {"Bucket": ARTIFACT_BUCKET, "Key": f"{name}.zip"}

    cloudformation = transform(sam, dict(parameters or {}), _NoManagedPolicies())
    translated = TranslatedTemplate(
        cloudformation, placeholder_keys=tuple(f"{name}.zip" for name in code_dirs)
    )

    # Translated layer versions get a hash suffix; map them back through their S3 key.
    layer_dirs: dict[str, Path] = {}
    for name, resource in translated.resources_of_type("AWS::Lambda::LayerVersion").items():
        source = resource["Properties"]["Content"]["S3Key"].removesuffix(".zip")
        layer_dirs[name] = code_dirs[source]
    for name, resource in translated.resources_of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        code = props.get("Code", {})
        source_name = str(code.get("S3Key", "")).removesuffix(".zip")
        if source_name not in code_dirs:
            continue
        layers = tuple(
            layer_dirs[ref["Ref"]]
            for ref in props.get("Layers", [])
            if isinstance(ref, dict) and ref.get("Ref") in layer_dirs
        )
        translated.functions[name] = FunctionSource(
            logical_id=name,
            code_dir=code_dirs[source_name],
            handler=props["Handler"],
            layer_dirs=layers,
        )
    return translated


def glue_table_columns(template_path: Path, logical_id: str) -> tuple[tuple[str, str], ...]:
    """(name, Glue type) of a Glue table the template declares, in order: tests, benchmarks and
    the demo use the real table's columns, never a copy of them."""
    resource = load_sam_template(template_path)["Resources"][logical_id]
    columns = resource["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
    return tuple((str(column["Name"]), str(column["Type"])) for column in columns)
