#!/usr/bin/env node
// Entry point of the `constellate` command. Checks the Node version, registers the TypeScript loader (tsx) and hands
// over to main.ts. Kept in plain JavaScript so that it runs before any loader exists.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`constellate: Node.js >= 22.12 is required (this is ${process.version})\n`);
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
