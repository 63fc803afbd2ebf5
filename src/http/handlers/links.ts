/** RFC 5988 next-page link, relative so Go clients accept it. */
export function nextLink(path: string, last: string, n: number): string {
  const q = new URLSearchParams({ last, n: String(n) });
  return `<${path}?${q.toString()}>; rel="next"`;
}
