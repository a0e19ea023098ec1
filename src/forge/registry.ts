import type { Forge, ForgeFactory, ForgeKind, RepoRef } from './types.js';

/** Routes a repository to the factory of its forge (GitHub, GitLab). */
export class ForgeRegistry implements ForgeFactory {
  private readonly factories = new Map<ForgeKind, ForgeFactory>();

  register(kind: ForgeKind, factory: ForgeFactory): this {
    this.factories.set(kind, factory);
    return this;
  }

  forRepo(repo: RepoRef): Promise<Forge> {
    const factory = this.factories.get(repo.forge);
    if (!factory) throw new Error(`Forge is not configured for ${repo.forge}`);
    return factory.forRepo(repo);
  }
}
