import { strict as assert } from "node:assert";
import { child, children, childText, parseXml, renderXml, XmlError } from "../../src/s3/xml.ts";

Deno.test("renderXml escapes text and repeats arrays", () => {
  const xml = renderXml("ListBucketResult", {
    Name: "b",
    Contents: [{ Key: "a<b&c" }, { Key: "d" }],
    IsTruncated: false,
    Skipped: undefined,
  });
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      "<Name>b</Name><Contents><Key>a&#60;b&#38;c</Key></Contents><Contents><Key>d</Key></Contents>" +
      "<IsTruncated>false</IsTruncated></ListBucketResult>",
  );
});

Deno.test("parseXml reads a CompleteMultipartUpload document", () => {
  const doc = parseXml(`<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>
  <Part><PartNumber>2</PartNumber><ETag>"def"</ETag></Part>
</CompleteMultipartUpload>`);
  assert.equal(doc.name, "CompleteMultipartUpload");
  const parts = children(doc, "Part").map((
    p,
  ) => [childText(p, "PartNumber"), childText(p, "ETag")]);
  assert.deepEqual(parts, [["1", '"abc"'], ["2", '"def"']]);
  assert.equal(child(doc, "Missing"), undefined);
});

Deno.test("parseXml refuses malformed documents and entity declarations", () => {
  for (
    const bad of [
      "<a><b></a>",
      "<a>",
      "text<a/>",
      "<a/><b/>",
      '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    ]
  ) assert.throws(() => parseXml(bad), XmlError, bad);
});
