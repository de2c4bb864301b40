import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ggufHeader, manifestPath, readGgufHeader } from './model-files.js';

describe('models directory files', () => {
  it('reads the scalar keys of a GGUF header and stops at the tokenizer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-gguf-'));
    try {
      const file = join(dir, 'model.gguf');
      writeFileSync(
        file,
        ggufHeader({ 'general.architecture': 'llama', 'llama.context_length': 131072, 'llama.block_count': 32, 'tokenizer.ggml.model': 'gpt2' }),
      );
      const kv = await readGgufHeader(file);
      expect(Object.fromEntries(kv)).toEqual({ 'general.architecture': 'llama', 'llama.context_length': 131072, 'llama.block_count': 32 });
      writeFileSync(file, 'not a model');
      await expect(readGgufHeader(file)).rejects.toThrow(/GGUF/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('places manifests as Ollama does (types/model/name.go)', () => {
    expect(manifestPath('/m', 'llama3.1:8b')).toBe('/m/manifests/registry.ollama.ai/library/llama3.1/8b');
    expect(manifestPath('/m', 'nomic-embed-text')).toBe('/m/manifests/registry.ollama.ai/library/nomic-embed-text/latest');
    expect(manifestPath('/m', 'someone/model:q4')).toBe('/m/manifests/registry.ollama.ai/someone/model/q4');
    expect(manifestPath('/m', 'hf.co/org/model:Q4_K_M')).toBe('/m/manifests/hf.co/org/model/Q4_K_M');
  });
});
