#include "s3_xml.h"

#include <tinyxml2.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sftpgate::s3 {
namespace {

using tinyxml2::XMLDocument;
using tinyxml2::XMLElement;

// The root element of `xml`, or null when it does not parse.
const XMLElement* Root(XMLDocument* doc, absl::string_view xml) {
  if (doc->Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) {
    return nullptr;
  }
  return doc->RootElement();
}

std::string Text(const XMLElement* parent, const char* name) {
  const XMLElement* e = parent->FirstChildElement(name);
  if (e == nullptr || e->GetText() == nullptr) return "";
  return e->GetText();
}

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("malformed ", what, " response from the S3 store"));
}

}  // namespace

ErrorBody ParseErrorBody(absl::string_view xml) {
  XMLDocument doc;
  const XMLElement* root = Root(&doc, xml);
  if (root == nullptr || absl::string_view(root->Name()) != "Error") return {};
  return {Text(root, "Code"), Text(root, "Message")};
}

bool IsErrorDocument(absl::string_view xml) {
  XMLDocument doc;
  const XMLElement* root = Root(&doc, xml);
  return root != nullptr && absl::string_view(root->Name()) == "Error";
}

absl::StatusOr<ListPage> ParseListObjectsV2(absl::string_view xml) {
  XMLDocument doc;
  const XMLElement* root = Root(&doc, xml);
  if (root == nullptr) return Malformed("ListObjectsV2");
  ListPage page;
  for (const XMLElement* c = root->FirstChildElement("Contents"); c != nullptr;
       c = c->NextSiblingElement("Contents")) {
    ListedObject object;
    object.key = Text(c, "Key");
    if (!absl::SimpleAtoi(Text(c, "Size"), &object.size)) {
      return Malformed("ListObjectsV2 (Size)");
    }
    object.last_modified = ParseIsoTime(Text(c, "LastModified"));
    page.objects.push_back(std::move(object));
  }
  for (const XMLElement* p = root->FirstChildElement("CommonPrefixes");
       p != nullptr; p = p->NextSiblingElement("CommonPrefixes")) {
    page.prefixes.push_back(Text(p, "Prefix"));
  }
  if (Text(root, "IsTruncated") == "true") {
    page.next_continuation_token = Text(root, "NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return Malformed("ListObjectsV2 (truncated without a token)");
    }
  }
  return page;
}

absl::StatusOr<UploadsPage> ParseListMultipartUploads(absl::string_view xml) {
  XMLDocument doc;
  const XMLElement* root = Root(&doc, xml);
  if (root == nullptr) return Malformed("ListMultipartUploads");
  UploadsPage page;
  for (const XMLElement* u = root->FirstChildElement("Upload"); u != nullptr;
       u = u->NextSiblingElement("Upload")) {
    page.uploads.push_back({Text(u, "Key"), Text(u, "UploadId")});
  }
  page.truncated = Text(root, "IsTruncated") == "true";
  page.next_key_marker = Text(root, "NextKeyMarker");
  page.next_upload_id_marker = Text(root, "NextUploadIdMarker");
  return page;
}

absl::StatusOr<std::string> ParseResultField(absl::string_view xml,
                                             absl::string_view name) {
  XMLDocument doc;
  const XMLElement* root = Root(&doc, xml);
  if (root == nullptr) return Malformed(name);
  if (absl::string_view(root->Name()) == "Error") {
    return absl::FailedPreconditionError(
        absl::StrCat("S3 ", Text(root, "Code"), ": ", Text(root, "Message")));
  }
  const std::string value = Text(root, std::string(name).c_str());
  if (value.empty()) return Malformed(name);
  return value;
}

std::string CompleteMultipartXml(const std::vector<std::string>& etags) {
  XMLDocument doc;
  XMLElement* root = doc.NewElement("CompleteMultipartUpload");
  doc.InsertFirstChild(root);
  for (size_t i = 0; i < etags.size(); ++i) {
    XMLElement* part = root->InsertNewChildElement("Part");
    part->InsertNewChildElement("PartNumber")
        ->SetText(static_cast<int64_t>(i + 1));
    part->InsertNewChildElement("ETag")->SetText(etags[i].c_str());
  }
  tinyxml2::XMLPrinter printer(nullptr, /*compact=*/true);
  doc.Print(&printer);
  return printer.CStr();
}

int64_t ParseIsoTime(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", std::string(text), &t, &error)) {
    return 0;
  }
  return absl::ToUnixSeconds(t);
}

}  // namespace sftpgate::s3
