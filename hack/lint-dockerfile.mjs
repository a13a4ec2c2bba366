// Lints the Dockerfile: dockerfile-utils' checks (the validator behind the
// Dockerfile language server, all raised to errors), plus this project's rules,
// in the spirit of hadolint, on dockerfile-ast's parse.
import { DockerfileParser } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'Dockerfile';
const content = readFileSync(file, 'utf8');
const problems = [];
const report = (line, message) => problems.push({ line: line + 1, message });

const E = ValidationSeverity.ERROR;
for (const d of validate(content, {
  deprecatedMaintainer: E,
  directiveCasing: E,
  emptyContinuationLine: E,
  instructionCasing: E,
  instructionCmdMultiple: E,
  instructionEntrypointMultiple: E,
  instructionHealthcheckMultiple: E,
  instructionJSONInSingleQuotes: E,
  instructionWorkdirRelative: E,
})) {
  report(d.range.start.line, d.message);
}

const dockerfile = DockerfileParser.parse(content);
const args = new Map(
  dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName(), arg.getProperty()?.getValue() ?? '']),
);
const resolve = (text) => text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name) => args.get(name) ?? '');
const froms = dockerfile.getFROMs();
const stages = new Map(froms.map((from, i) => [from.getBuildStage() ?? String(i), from]));
const line = (instruction) => instruction.getRange().start.line;
const instructionsOf = (from) => {
  const start = line(from);
  const next = froms.find((f) => line(f) > start);
  return dockerfile.getInstructions().filter((i) => line(i) > start && (next === undefined || line(i) < line(next)));
};

if (froms.length < 2) report(0, 'Use a multi-stage build: build in one stage, copy the result into a slim one');
for (const from of froms) {
  const image = resolve(from.getImage() ?? '');
  if (stages.has(image)) continue;
  const [name, tag] = image.split(':');
  if (!tag && !image.includes('@')) report(line(from), `Pin the base image ${image} with a tag or digest`);
  else if (tag === 'latest') report(line(from), `Do not use the latest tag: ${image}`);
  if (name === 'node' && !/^24([.-]|$)/.test(tag ?? ''))
    report(line(from), `The base image must be Node 24 (package.json engines), got ${image}`);
}
for (const instruction of dockerfile.getInstructions()) {
  const keyword = instruction.getKeyword();
  const text = instruction.getArgumentsContent() ?? '';
  if (keyword === 'ADD' && !/^(--\S+\s+)*(https?:|git@)/.test(text))
    report(line(instruction), 'Use COPY, not ADD, for files and folders');
  if (keyword === 'RUN' && /\bsudo\b/.test(text)) report(line(instruction), 'Do not use sudo in RUN');
  if (keyword === 'RUN' && /\bcurl\b[^|]*\|\s*(ba)?sh\b/.test(text))
    report(line(instruction), 'Do not pipe downloads into a shell');
}

const final = froms.at(-1);
if (final) {
  const body = instructionsOf(final);
  const users = body.filter((i) => i.getKeyword() === 'USER');
  const user = users.at(-1)?.getArgumentsContent() ?? '';
  if (!/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user))
    report(line(final), `The final stage must end as a numeric non-root USER (uid:gid), got "${user || 'none'}"`);
  const entry = body.filter((i) => i.getKeyword() === 'ENTRYPOINT' || i.getKeyword() === 'CMD').at(-1);
  if (!entry) report(line(final), 'The final stage needs an ENTRYPOINT');
  else if (!entry.getArgumentsContent().trim().startsWith('['))
    report(line(entry), 'Use the exec (JSON) form for ENTRYPOINT and CMD, so signals reach node');
  for (const copy of body.filter((i) => i.getKeyword() === 'COPY')) {
    const fromStage = copy.getFromFlag?.()?.getValue();
    if (!fromStage || !/node_modules/.test(copy.getArgumentsContent())) continue;
    const stage = stages.get(fromStage);
    const installs = stage
      ? instructionsOf(stage).filter((i) => /\bnpm (install|ci)\b/.test(i.getArgumentsContent() ?? ''))
      : [];
    if (installs.length === 0 || !installs.every((i) => /--omit=dev\b/.test(i.getArgumentsContent())))
      report(
        line(copy),
        `node_modules in the final stage must come from an install with --omit=dev (stage ${fromStage})`,
      );
  }
}

for (const p of problems.sort((a, b) => a.line - b.line)) console.error(`${file}:${p.line}: ${p.message}`);
process.exit(problems.length > 0 ? 1 : 0);
