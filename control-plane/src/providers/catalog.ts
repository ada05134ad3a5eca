import type { ModelPrices, ProviderKind } from '@switchboard/protocol';

interface CatalogModel {
  name: string;
  upstreamModel: string;
  contextLimit: number;
  outputLimit: number;
  prices: ModelPrices;
}

const usd = (dollarsPerMillion: number) => Math.round(dollarsPerMillion * 1_000_000);

/** Official endpoints, used when a provider of that kind is created without a base URL. */
export const DEFAULT_BASE_URL: Partial<Record<ProviderKind, string>> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com/v1',
};

/**
 * Models seeded when a provider of a kind is created, with list prices per million tokens as
 * published by the providers. Admins edit them through /api/v1/models.
 */
export const DEFAULT_MODELS: Partial<Record<ProviderKind, CatalogModel[]>> = {
  anthropic: [
    {
      name: 'claude-sonnet-4-5',
      upstreamModel: 'claude-sonnet-4-5',
      contextLimit: 200_000,
      outputLimit: 64_000,
      prices: { input: usd(3), output: usd(15), cacheRead: usd(0.3), cacheWrite: usd(3.75) },
    },
    {
      name: 'claude-opus-4-1',
      upstreamModel: 'claude-opus-4-1',
      contextLimit: 200_000,
      outputLimit: 32_000,
      prices: { input: usd(15), output: usd(75), cacheRead: usd(1.5), cacheWrite: usd(18.75) },
    },
    {
      name: 'claude-haiku-4-5',
      upstreamModel: 'claude-haiku-4-5',
      contextLimit: 200_000,
      outputLimit: 64_000,
      prices: { input: usd(1), output: usd(5), cacheRead: usd(0.1), cacheWrite: usd(1.25) },
    },
  ],
  openai: [
    {
      name: 'gpt-5',
      upstreamModel: 'gpt-5',
      contextLimit: 400_000,
      outputLimit: 128_000,
      prices: { input: usd(1.25), output: usd(10), cacheRead: usd(0.125), cacheWrite: usd(1.25) },
    },
    {
      name: 'gpt-5-mini',
      upstreamModel: 'gpt-5-mini',
      contextLimit: 400_000,
      outputLimit: 128_000,
      prices: { input: usd(0.25), output: usd(2), cacheRead: usd(0.025), cacheWrite: usd(0.25) },
    },
    {
      name: 'gpt-4.1',
      upstreamModel: 'gpt-4.1',
      contextLimit: 1_047_576,
      outputLimit: 32_768,
      prices: { input: usd(2), output: usd(8), cacheRead: usd(0.5), cacheWrite: usd(2) },
    },
  ],
};
