/**
 * Child process for the library-safety tests: opens (creates) a library, optionally adds a folder, and SIGKILLs itself
 * before any close, leaving the library's content in the WAL and a stale lock file.
 * usage: node --import tsx open-and-die.ts LIBRARY [FOLDER]
 */
import { Library } from '../core/library.ts';

const lib = Library.open(process.argv[2]);
if (process.argv[3]) lib.addRoot(process.argv[3]);
process.kill(process.pid, 'SIGKILL');
