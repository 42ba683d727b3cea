/**
 * Just enough XML for S3: building responses, and reading the small request
 * documents clients send (CompleteMultipartUpload, Delete, CreateBucketConfiguration).
 */
import { escapeXml } from "./errors.ts";

export type XmlNode = { [name: string]: XmlValue };
export type XmlValue = string | number | boolean | Date | XmlNode | XmlValue[] | undefined;

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Renders `{ Root: {...} }` as an S3 XML document; arrays repeat their element. */
export function renderXml(root: string, body: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NS}">${
    renderChildren(body)
  }</${root}>`;
}

function renderChildren(node: XmlNode): string {
  let out = "";
  for (const [name, value] of Object.entries(node)) out += renderElement(name, value);
  return out;
}

function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => renderElement(name, v)).join("");
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === "object") return `<${name}>${renderChildren(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export class XmlError extends Error {
  override name = "XmlError";
}

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/**
 * Parses a small XML document into elements. Namespaces prefixes are dropped,
 * and DOCTYPE or entity declarations are refused rather than expanded.
 */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError("DTDs are not accepted");
  const root: XmlElement = { name: "#document", children: [], text: "" };
  const stack = [root];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|([^<]+)/g;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = tag.exec(text)) !== null) {
    if (match.index !== consumed) throw new XmlError("Malformed XML");
    consumed = tag.lastIndex;
    const [, closing, qname, , selfClosing, chars] = match;
    const top = stack.at(-1)!;
    if (chars !== undefined) {
      top.text += decodeEntities(chars);
    } else if (qname && closing) {
      if (stack.length < 2 || top.name !== localName(qname)) throw new XmlError("Mismatched tag");
      stack.pop();
    } else if (qname) {
      const element: XmlElement = { name: localName(qname), children: [], text: "" };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  if (consumed !== text.length || stack.length !== 1) throw new XmlError("Malformed XML");
  const elements = root.children;
  if (elements.length !== 1 || root.text.trim() !== "") throw new XmlError("Expected one root");
  return elements[0];
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text.trim();
}

function localName(qname: string): string {
  return qname.slice(qname.indexOf(":") + 1);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (e[0] !== "#") return named[e.toLowerCase()];
    const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1));
    return String.fromCodePoint(code);
  });
}
