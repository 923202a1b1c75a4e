"""S3 adapter for config files and their rejection reports."""

from botocore.exceptions import ClientError

from datalake_shared.s3_objects import S3ObjectReader, is_missing


class S3ConfigObjects(S3ObjectReader):
    """Reads config objects (never more than a limit) and writes reports beside them."""

    def put_text(self, bucket: str, key: str, text: str) -> None:
        self.client.put_object(
            Bucket=bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8"
        )

    def delete_if_exists(self, bucket: str, key: str) -> bool:
        """Deletes the object if there is one (a blind delete would add a delete marker to a
        versioned bucket every time). Telling "absent" from "forbidden" needs s3:ListBucket."""
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if is_missing(error):
                return False
            raise
        self.client.delete_object(Bucket=bucket, Key=key)
        return True
