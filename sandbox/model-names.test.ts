import { describe, expect, it } from 'vitest';
import { sameModel, splitModelName, taggedModelName } from './model-names.js';

describe('Ollama model names', () => {
  it('fills in the tag `latest`, as Ollama does, and keeps any other', () => {
    expect(taggedModelName('nomic-embed-text')).toBe('nomic-embed-text:latest');
    expect(taggedModelName('nomic-embed-text:latest')).toBe('nomic-embed-text:latest');
    expect(taggedModelName('library/qwen2.5:7b-instruct-q4_K_M')).toBe('library/qwen2.5:7b-instruct-q4_K_M');
    // A colon before the last slash is a registry's port, not a tag.
    expect(splitModelName('localhost:5000/team/model')).toEqual({ path: 'localhost:5000/team/model', tag: 'latest' });
    expect(splitModelName('localhost:5000/team/model:q4')).toEqual({ path: 'localhost:5000/team/model', tag: 'q4' });
  });

  it('tells one model under two names from two models', () => {
    expect(sameModel('nomic-embed-text', 'nomic-embed-text:latest')).toBe(true);
    expect(sameModel('llama3.1', 'llama3.1:8b')).toBe(false);
    expect(sameModel('qwen2.5:0.5b', 'qwen2.5:0.5b')).toBe(true);
  });
});
