/**
 * `npm run models -- pull <model>`: pulls the sandbox image when the engine lacks it, then
 * downloads model weights into SANDBOX_MODELS_DIR through a one-off networked container (see
 * {@link pullModel}). `npm run models -- image` pulls only the image. Reads the same environment
 * as the server (DOCKER_HOST, SANDBOX_IMAGE, SANDBOX_MODELS_DIR, SANDBOX_OWNER).
 */
import { isCloudModel, sandboxConfigFromEnv } from './config.js';
import { dockerFromHost } from './docker.js';
import { PullRefusedError, ensureImage, isValidModelName, pullModel } from './models.js';

const USAGE = 'usage: npm run models -- pull <model>   (e.g. llama3.1:8b)\n       npm run models -- image          (pull the sandbox image only)';

async function run(argv: string[]): Promise<number> {
  const [command, model, ...rest] = argv;
  const pull = command === 'pull' && !!model && rest.length === 0;
  if (!pull && !(command === 'image' && !model)) {
    console.error(USAGE);
    return 2;
  }
  if (pull && !isValidModelName(model!)) {
    console.error(`not a model name: ${model}`);
    return 2;
  }
  if (pull && isCloudModel(model!)) {
    console.error(`${model} is a cloud model: it runs on ollama.com and would get the prompts; pick a local one`);
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
  try {
    if ((await ensureImage(docker, cfg.image)) === 'present') console.error(`image ${cfg.image} is present`);
    if (!pull) return 0;
    console.error(`pulling ${model} into ${cfg.modelsDir} with ${cfg.image}`);
    const code = await pullModel(docker, { image: cfg.image, modelsDir: cfg.modelsDir, owner: cfg.owner, model: model! });
    if (code !== 0) console.error(`ollama pull exited with ${code}`);
    return code;
  } catch (err) {
    console.error((err as Error).message);
    return err instanceof PullRefusedError ? 3 : 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
