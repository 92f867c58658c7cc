// Writes tests/data/tokenizers/<name>.expected.json: for every text of texts.json, the ids an
// independent tokenizer (Hugging Face's tokenizers.js, npm @huggingface/tokenizers, pinned in
// package.json) gives for ../shared/tokenizers/hf/<name>/tokenizer.json, with and without
// special tokens. Run by scripts/tokenizer-reference/generate (it installs the package in
// build/tokenizer-reference so the source tree stays clean); ctest only reads the results.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const [, , repo, shared, modules] = process.argv;
const require = createRequire(join(modules, "noop.js"));
const { Tokenizer } = require("@huggingface/tokenizers");
const version = JSON.parse(
  readFileSync(join(modules, "node_modules/@huggingface/tokenizers/package.json"), "utf8")).version;

const dataDir = join(repo, "tests/data/tokenizers");
const texts = JSON.parse(readFileSync(join(dataDir, "texts.json"), "utf8"));
for (const name of ["qwen3", "llama2"]) {
  const dir = join(shared, "tokenizers/hf", name);
  const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  const tok = new Tokenizer(tokenizerJson, tokenizerConfig);
  const cases = texts.map((text) => ({
    text,
    ids: tok.encode(text).ids,
    ids_no_special: tok.encode(text, { add_special_tokens: false }).ids,
  }));
  // One case per line, so a regenerated file diffs case by case.
  const head = {
    generator: `@huggingface/tokenizers ${version} (scripts/tokenizer-reference/generate.mjs)`,
    tokenizer: `shared/tokenizers/hf/${name}/tokenizer.json`,
  };
  const body = cases.map((c) => "  " + JSON.stringify(c)).join(",\n");
  const text = JSON.stringify(head, null, 1).replace(/\n}$/, `,\n "cases": [\n${body}\n ]\n}\n`);
  writeFileSync(join(dataDir, `${name}.expected.json`), text);
  console.log(`${name}: ${cases.length} cases`);
}
