import type { CommentPlace, Conversation, ForgeWords } from './types.js';

/** The issue or change request a comment place belongs to (a review thread is on its change request). */
export function conversationOf(place: CommentPlace): Conversation {
  return { type: place.type === 'issue' ? 'issue' : 'change_request', number: place.number };
}

/** The conversation an event's subject is. */
export function subjectConversation(subject: { number: number; isChangeRequest: boolean }): Conversation {
  return { type: subject.isChangeRequest ? 'change_request' : 'issue', number: subject.number };
}

/** `#12` for an issue, the host's change request reference (`#12`, `!12`) otherwise. */
export function refOf(words: ForgeWords, on: Conversation): string {
  return on.type === 'issue' ? words.issueRef(on.number) : words.changeRequestRef(on.number);
}

/** Stable key of a conversation within a repository (issues keep their bare number, as stored before). */
export function conversationKey(on: Conversation): string {
  return on.type === 'issue' ? String(on.number) : `cr:${on.number}`;
}
