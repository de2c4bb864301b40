/**
 * `npm run models -- pull <model>`: downloads model weights into SANDBOX_MODELS_DIR through a
 * one-off networked container (see {@link pullModel}). Reads the same environment as the server
 * (DOCKER_HOST, SANDBOX_IMAGE, SANDBOX_MODELS_DIR, SANDBOX_OWNER).
 */
import { sandboxConfigFromEnv } from './config.js';
import { dockerFromHost } from './docker.js';
import { isValidModelName, pullModel } from './models.js';

const USAGE = 'usage: npm run models -- pull <model>   (e.g. llama3.1:8b)';

async function run(argv: string[]): Promise<number> {
  const [command, model, ...rest] = argv;
  if (command !== 'pull' || !model || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  if (!isValidModelName(model)) {
    console.error(`not a model name: ${model}`);
    return 2;
  }
  const cfg = sandboxConfigFromEnv(process.env);
  const docker = dockerFromHost(cfg.dockerHost);
  try {
    await docker.ping();
  } catch (err) {
    console.error(`no container engine at ${cfg.dockerHost ?? '/var/run/docker.sock'}: ${(err as Error).message}`);
    return 1;
  }
  console.error(`pulling ${model} into ${cfg.modelsDir} with ${cfg.image}`);
  const code = await pullModel(docker, { image: cfg.image, modelsDir: cfg.modelsDir, owner: cfg.owner, model });
  if (code !== 0) console.error(`ollama pull exited with ${code}`);
  return code;
}

process.exitCode = await run(process.argv.slice(2));
