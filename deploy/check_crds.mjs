#!/usr/bin/env node
// Validates custom resources (Argo CD, Istio) against the projects' published CRD schemas, as the
// npm packages @kubernetes-models/argo-cd and @kubernetes-models/istio compile them (types, enums,
// required fields; pinned in package-lock.json).
// Usage: node deploy/check_crds.mjs FILE.json   (a JSON array of manifests; deploy/validate_manifests.py
// writes it). Prints one line per manifest; exits 1 if any is invalid or has no schema here.
import { readFileSync } from "node:fs";

const PACKAGES = {
  "argoproj.io": "@kubernetes-models/argo-cd",
  "networking.istio.io": "@kubernetes-models/istio",
};

async function check(doc) {
  const [group, version] = doc.apiVersion.split("/");
  const pkg = PACKAGES[group];
  const name = `${doc.kind}/${doc.metadata?.name ?? "?"} (${doc.apiVersion})`;
  if (!pkg) return `${name}: no schema for group ${group}`;
  let model;
  try {
    model = await import(`${pkg}/${group}/${version}/${doc.kind}`);
  } catch {
    return `${name}: ${pkg} has no ${group}/${version} ${doc.kind}`;
  }
  try {
    new model[doc.kind](doc).validate();
  } catch (error) {
    return `${name}: ${error.message}`;
  }
  console.log(`ok    ${name}`);
  return null;
}

const docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
for (const doc of docs) {
  const error = await check(doc);
  if (error) {
    console.log(`FAIL  ${error}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
