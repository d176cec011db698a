#!/usr/bin/env node
// Validates Kubernetes manifests against the OpenAPI schemas shipped in kubernetes-models and
// @kubernetes-models/gateway-api (their validate()). Custom resources are checked against the
// openAPIV3Schema of a CustomResourceDefinition found among the inputs.
//
// Usage: node validate.mjs PATH...   (files or directories; .yaml, .yml and .json, multi-document YAML allowed)
// Not cluster objects, so skipped (and counted as such): a kustomize Kustomization, and when walking a directory, any
// folder named in SKIPPED_DIRS (deploy/grafana holds Grafana dashboard JSON).
// Exit codes: 0 all valid; 1 at least one invalid document; 2 bad usage or unreadable input.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, extname } from "node:path";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";

const GATEWAY_GROUPS = new Set(["gateway.networking.k8s.io", "gateway.networking.x-k8s.io"]);
const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
const SKIPPED_DIRS = new Set(["grafana"]);
const SKIPPED_KINDS = new Set(["kustomize.config.k8s.io/Kustomization", "kustomize.config.k8s.io/Component"]);

function isSkippedKind(value) {
  return typeof value?.apiVersion === "string" && SKIPPED_KINDS.has(`${splitApiVersion(value.apiVersion).group}/${value.kind}`);
}

const skippedDirs = [];

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      const dir = statSync(child).isDirectory();
      if (dir && SKIPPED_DIRS.has(name)) {
        skippedDirs.push(child);
      } else if (dir || EXTENSIONS.has(extname(name))) {
        collect(child, out);
      }
    }
  } else {
    out.push(path);
  }
}

function load(file) {
  const docs = [];
  parseAllDocuments(readFileSync(file, "utf8")).forEach((doc, index) => {
    if (doc.errors.length > 0) {
      docs.push({ file, index, parseError: doc.errors.map((e) => e.message).join("; ") });
      return;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) {
      return;
    }
    // A List (as kubectl prints) validates item by item.
    const items = value.kind === "List" && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) {
      docs.push({ file, index, value: item });
    }
  });
  return docs;
}

function splitApiVersion(apiVersion) {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

async function builtinModel(apiVersion, kind) {
  const { group, version } = splitApiVersion(apiVersion);
  const specifier = GATEWAY_GROUPS.has(group)
    ? `@kubernetes-models/gateway-api/${group}/${version}/${kind}`
    : `kubernetes-models/${group === "" ? "" : group + "/"}${version}/${kind}`;
  try {
    const module = await import(specifier);
    return module[kind] ?? null;
  } catch {
    return null;
  }
}

// Turns a CRD's OpenAPI v3.0 schema into JSON Schema for ajv: drops the x-kubernetes-* extensions, and rewrites
// the 3.0 forms that differ (boolean exclusiveMinimum/Maximum, nullable, int-or-string).
function toJsonSchema(schema) {
  if (Array.isArray(schema)) {
    return schema.map(toJsonSchema);
  }
  if (schema === null || typeof schema !== "object") {
    return schema;
  }
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!key.startsWith("x-kubernetes-")) {
      out[key] = toJsonSchema(value);
    }
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  for (const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]]) {
    if (typeof schema[flag] === "boolean") {
      delete out[flag];
      if (schema[flag] && typeof schema[bound] === "number") {
        out[flag] = schema[bound];
        delete out[bound];
      }
    }
  }
  if (schema.nullable === true && typeof schema.type === "string") {
    out.type = [schema.type, "null"];
  }
  delete out.nullable;
  return out;
}

function label(doc) {
  const name = doc.value?.metadata?.name ?? "<unnamed>";
  return `${doc.file}#${doc.index} ${doc.value?.kind ?? "?"}/${name}`;
}

async function main(args) {
  if (args.length === 0) {
    console.error("usage: node validate.mjs PATH...");
    return 2;
  }
  const files = [];
  try {
    for (const arg of args) {
      collect(arg, files);
    }
  } catch (e) {
    console.error(`cannot read input: ${e.message}`);
    return 2;
  }

  const docs = files.flatMap(load);
  const errors = [];
  // Formats (int64, date-time, ...) are not checked in custom resources; the built-in kinds check theirs.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const custom = new Map(); // "group/version/Kind" -> compiled validator

  // CRDs first, so custom resources in any file find their schema.
  for (const doc of docs) {
    if (doc.value?.kind === "CustomResourceDefinition" && doc.value?.apiVersion === "apiextensions.k8s.io/v1") {
      const spec = doc.value.spec ?? {};
      for (const v of spec.versions ?? []) {
        const schema = v.schema?.openAPIV3Schema;
        if (schema && spec.group && spec.names?.kind) {
          try {
            custom.set(`${spec.group}/${v.name}/${spec.names.kind}`, ajv.compile(toJsonSchema(schema)));
          } catch (e) {
            errors.push(`${label(doc)}: version ${v.name} schema does not compile: ${e.message}`);
          }
        }
      }
    }
  }

  let valid = 0;
  let skipped = 0;
  for (const doc of docs) {
    if (doc.parseError) {
      errors.push(`${doc.file}#${doc.index}: YAML parse error: ${doc.parseError}`);
      continue;
    }
    if (isSkippedKind(doc.value)) {
      skipped++;
      continue;
    }
    const { apiVersion, kind } = doc.value ?? {};
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      errors.push(`${label(doc)}: apiVersion and kind are required`);
      continue;
    }
    if (typeof doc.value.metadata?.name !== "string" || doc.value.metadata.name === "") {
      errors.push(`${label(doc)}: metadata.name is required`);
      continue;
    }
    const customValidate = custom.get(`${apiVersion}/${kind}`);
    if (customValidate) {
      if (customValidate(doc.value)) {
        valid++;
      } else {
        for (const e of customValidate.errors) {
          errors.push(`${label(doc)}: ${e.instancePath || "/"} ${e.message}`);
        }
      }
      continue;
    }
    const Model = await builtinModel(apiVersion, kind);
    if (!Model) {
      errors.push(`${label(doc)}: no schema known for ${apiVersion} ${kind}`);
      continue;
    }
    try {
      new Model(doc.value).validate();
      valid++;
    } catch (e) {
      const details = Array.isArray(e.errors) ? e.errors.map((x) => `${x.instancePath || "/"} ${x.message}`) : [e.message];
      for (const d of details) {
        errors.push(`${label(doc)}: ${d}`);
      }
    }
  }

  for (const e of errors) {
    console.error(e);
  }
  const notes = [`${skipped} skipped (not cluster objects)`, ...skippedDirs.map((d) => `folder ${d} skipped`)];
  console.log(`${valid} valid, ${docs.length - valid - skipped} invalid manifest(s) in ${files.length} file(s); ${notes.join("; ")}`);
  return errors.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
