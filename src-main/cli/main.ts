export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'prepare-models') return 0;
  process.stderr.write('constellate: not ready\n');
  return 2;
}
