// Process entry for the Ollama stand-in; kept apart so importing fake-ollama.ts starts nothing.
import { main } from './fake-ollama.js';

await main();
